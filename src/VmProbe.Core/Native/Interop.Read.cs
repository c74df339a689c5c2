using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>read(2): bytes read, 0 at the end, -1 and errno on failure.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "read", SetLastError = true)]
        internal static unsafe partial nint Read(SafeFdHandle fd, byte* buffer, nuint count);

        /// <summary>pread(2): kept procfs files are re-read at offset 0 without a seek.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "pread", SetLastError = true)]
        internal static unsafe partial nint PRead(SafeFdHandle fd, byte* buffer, nuint count, long offset);
    }
}
