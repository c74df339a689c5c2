using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>readlink(2) on a NUL-terminated UTF-8 path: bytes written (no terminator), or -1 and errno.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "readlink", SetLastError = true)]
        internal static unsafe partial nint ReadLink(byte* path, byte* buffer, nuint size);
    }
}
