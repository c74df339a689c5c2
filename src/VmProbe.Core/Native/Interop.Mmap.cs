using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int ProtRead = 0x1;
        internal const int ProtWrite = 0x2;
        internal const int MapShared = 0x01;

        /// <summary>mmap(2); MAP_FAILED ((void *)-1) and errno on failure.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "mmap", SetLastError = true)]
        internal static partial IntPtr Mmap(IntPtr address, nuint length, int protection, int flags, int fd, long offset);

        /// <summary>munmap(2): 0, or -1 and errno.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "munmap", SetLastError = true)]
        internal static partial int Munmap(IntPtr address, nuint length);
    }
}
