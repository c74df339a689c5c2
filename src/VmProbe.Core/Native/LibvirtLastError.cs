using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VmProbe.Native;

/// <summary>
/// The calling thread's last libvirt error as plain values (virterror.h's code, domain, level, message); the Libvirt
/// layer turns it into its exception. Also silences libvirt's stderr printer.
/// </summary>
internal readonly record struct LibvirtLastError(int Code, int Domain, int Level, string? Message)
{
    /// <summary>Reads the calling thread's last error (call right after the failing function) and resets it; Code 0 when libvirt set none.</summary>
    public static unsafe LibvirtLastError Take()
    {
        var error = Interop.Libvirt.virGetLastError();
        var result = error is null || error->Code == 0
            ? default
            : new LibvirtLastError(error->Code, error->Domain, error->Level, error->Message is null ? null : Marshal.PtrToStringUTF8((IntPtr)error->Message));
        Interop.Libvirt.virResetLastError();
        return result;
    }

    /// <summary>
    /// Without a handler libvirt prints every error to stderr, which would spam the runner's log each cycle.
    /// A static UnmanagedCallersOnly function needs no delegate kept alive.
    /// </summary>
    public static unsafe void InstallSilentHandler() => Interop.Libvirt.virSetErrorFunc(IntPtr.Zero, &IgnoreError);

    /// <summary>Per-connection handlers take priority over the global one, so set ours there too.</summary>
    public static unsafe void InstallSilentHandler(LibvirtConnectionHandle connection) =>
        Interop.Libvirt.virConnSetErrorFunc(connection, IntPtr.Zero, &IgnoreError);

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static void IgnoreError(IntPtr userData, IntPtr error)
    {
    }
}
