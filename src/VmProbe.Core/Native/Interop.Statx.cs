using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int AtFdCwd = -100;
        internal const uint StatxSize = 0x200;

        /// <summary>
        /// struct statx (include/uapi/linux/stat.h): 256 bytes, the same on every architecture. Only the fields the engine
        /// reads are declared; the rest is room the kernel fills.
        /// </summary>
        [StructLayout(LayoutKind.Explicit, Size = 256)]
        internal struct Statx
        {
            [FieldOffset(0)] public uint Mask;
            [FieldOffset(4)] public uint BlockSize;
            [FieldOffset(8)] public ulong Attributes;
            [FieldOffset(16)] public uint LinkCount;
            [FieldOffset(20)] public uint Uid;
            [FieldOffset(24)] public uint Gid;
            [FieldOffset(28)] public ushort Mode;
            [FieldOffset(32)] public ulong Ino;
            [FieldOffset(40)] public ulong Size;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "statx", SetLastError = true)]
        internal static unsafe partial int StatX(int dirFd, byte* path, int flags, uint mask, Statx* buffer);
    }
}
