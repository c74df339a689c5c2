using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VmProbe.Libvirt;

namespace VmProbe.Native;

/// <summary>Silences libvirt's stderr printer and turns the thread's last libvirt error into a <see cref="LibvirtException"/>.</summary>
internal static unsafe class LibvirtErrors
{
    /// <summary>
    /// Without a handler libvirt prints every error to stderr, which would spam the runner's log each cycle.
    /// A static UnmanagedCallersOnly function needs no delegate kept alive.
    /// </summary>
    public static void InstallSilentHandler() => LibvirtNative.virSetErrorFunc(IntPtr.Zero, &IgnoreError);

    /// <summary>Per-connection handlers take priority over the global one, so set ours there too.</summary>
    public static void InstallSilentHandler(LibvirtConnectionHandle connection) =>
        LibvirtNative.virConnSetErrorFunc(connection, IntPtr.Zero, &IgnoreError);

    /// <summary>Reads the calling thread's last error (call right after the failing function) and resets it.</summary>
    public static LibvirtException Capture(string function, string? subject = null)
    {
        var error = LibvirtNative.virGetLastError();
        LibvirtException exception;
        if (error is null || error->Code == 0)
        {
            exception = new LibvirtException(function, code: 0, errorDomain: 0, level: 0,
                libvirtMessage: "libvirt reported failure without an error", subject);
        }
        else
        {
            var message = error->Message is null ? null : Marshal.PtrToStringUTF8((IntPtr)error->Message);
            exception = new LibvirtException(function, error->Code, error->Domain, error->Level, message, subject);
        }

        LibvirtNative.virResetLastError();
        return exception;
    }

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static void IgnoreError(IntPtr userData, IntPtr error)
    {
    }
}
