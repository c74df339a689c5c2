using VmProbe.Native;

namespace VmProbe.Libvirt;

/// <summary>Turns what the native layer reports (a load failure, the thread's last libvirt error) into this layer's exceptions.</summary>
internal static class LibvirtErrors
{
    private static LibvirtUnavailableException? _unavailable;

    /// <summary>
    /// Loads libvirt.so.0 (once); throws <see cref="LibvirtUnavailableException"/> when it cannot. Always the same instance,
    /// so that its full message is logged once however many parts fail on it (see AlreadyReported).
    /// </summary>
    public static void EnsureLoaded()
    {
        if (!LibvirtLibrary.TryLoad(out var failure))
        {
            throw _unavailable ??= new LibvirtUnavailableException(failure!);
        }
    }

    /// <summary>Reads the calling thread's last error (call right after the failing function) and resets it.</summary>
    public static LibvirtException Capture(string function, string? subject = null)
    {
        var error = LibvirtLastError.Take();
        return error.Code == 0
            ? new LibvirtException(function, code: 0, errorDomain: 0, level: 0, libvirtMessage: "libvirt reported failure without an error", subject)
            : new LibvirtException(function, error.Code, error.Domain, error.Level, error.Message, subject);
    }

    /// <summary>Per-connection handlers take priority over the global one, so set ours there too.</summary>
    public static void InstallSilentHandler(LibvirtConnectionHandle connection) => LibvirtLastError.InstallSilentHandler(connection);
}
