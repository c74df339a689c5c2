using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>
        /// The fixed head of struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }:
        /// records are read in place from the buffer, the name starts at <see cref="NameOffset"/>.
        /// </summary>
        [StructLayout(LayoutKind.Explicit, Size = 24)]
        internal struct LinuxDirent64
        {
            public const int RecordLengthOffset = 16;
            public const int NameOffset = 19;

            [FieldOffset(0)] public ulong Ino;
            [FieldOffset(8)] public long Offset;
            [FieldOffset(16)] public ushort RecordLength;
            [FieldOffset(18)] public byte Type;
        }

        /// <summary>getdents64(2): bytes of records written, 0 at the end, -1 and errno on failure.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "getdents64", SetLastError = true)]
        internal static unsafe partial nint GetDents64(SafeFdHandle fd, byte* buffer, nuint count);
    }
}
