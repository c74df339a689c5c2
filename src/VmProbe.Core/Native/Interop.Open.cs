using System.Runtime.InteropServices;
using System.Text;

namespace VmProbe.Native;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // asm-generic values, identical on x86-64 and arm64.
        internal const int O_RDONLY = 0x0;
        internal const int O_WRONLY = 0x1;
        internal const int O_CREAT = 0x40;
        internal const int O_EXCL = 0x80;
        internal const int O_DIRECTORY = 0x10000;
        internal const int O_CLOEXEC = 0x80000;

        private const int MaxPathBytes = 4096;

        /// <summary>
        /// open(2); <paramref name="path"/> is NUL-terminated UTF-8 (procfs readers encode into a stack buffer: no string per
        /// file). <paramref name="mode"/> matters only with O_CREAT. Invalid handle and errno on failure.
        /// </summary>
        internal static unsafe SafeFdHandle Open(byte* path, int flags, int mode) =>
            new SafeFdHandle(OpenCore(path, flags, mode), FdKind.Transient); // the constructor makes no call: errno is kept

        // open returns a C int: a SafeHandle return would read all of rax, where -1 in eax is not -1.
        [LibraryImport(Libraries.Libc, EntryPoint = "open", SetLastError = true)]
        private static unsafe partial int OpenCore(byte* path, int flags, int mode);

        /// <summary><see cref="Open(byte*, int, int)"/> for a managed path; ENAMETOOLONG when it does not fit PATH_MAX.</summary>
        internal static unsafe SafeFdHandle Open(ReadOnlySpan<char> path, int flags, int mode = 0)
        {
            Span<byte> bytes = stackalloc byte[MaxPathBytes];
            if (!TryEncodePath(path, bytes))
            {
                Marshal.SetLastPInvokeError(Errno.ENAMETOOLONG);
                return new SafeFdHandle();
            }

            fixed (byte* p = bytes)
            {
                return Open(p, flags, mode);
            }
        }

        /// <summary>Writes <paramref name="path"/> as NUL-terminated UTF-8; false when it does not fit.</summary>
        internal static bool TryEncodePath(ReadOnlySpan<char> path, Span<byte> destination)
        {
            if (Encoding.UTF8.GetByteCount(path) >= destination.Length)
            {
                return false;
            }

            destination[Encoding.UTF8.GetBytes(path, destination)] = 0;
            return true;
        }
    }
}
