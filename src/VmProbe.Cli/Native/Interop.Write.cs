using System.Runtime.InteropServices;

namespace VmProbe.Cli.Native;

internal static partial class Interop
{
    /// <summary>write(2) on a raw fd: the bytes written, or -1 and errno.</summary>
    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    internal static partial nint Write(int fd, [In] byte[] buffer, nint count);
}
