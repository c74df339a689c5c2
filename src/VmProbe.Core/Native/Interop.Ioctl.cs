using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>
        /// ioctl(2). The C function is variadic with one optional argument: a value or a pointer, passed here as
        /// <paramref name="argument"/> (cast a pointer with <c>(nuint)&amp;x</c>).
        /// </summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "ioctl", SetLastError = true)]
        internal static partial int Ioctl(SafeFdHandle fd, ulong request, nuint argument);
    }
}
