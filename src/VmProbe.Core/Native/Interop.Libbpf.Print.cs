using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    internal static unsafe partial class Libbpf
    {
        /// <summary>
        /// libbpf_print_fn_t libbpf_set_print(libbpf_print_fn_t fn): fn is int (*)(enum libbpf_print_level, const char *fmt,
        /// va_list); returns the previous callback. libbpf prints to stderr until this is called.
        /// </summary>
        [LibraryImport(Libraries.Libbpf)]
        public static partial IntPtr libbpf_set_print(delegate* unmanaged<int, byte*, IntPtr, int> callback);
    }

    internal static unsafe partial class Libc
    {
        /// <summary>vsnprintf(3), to format libbpf's messages: on x86-64 a va_list argument is passed as a pointer.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "vsnprintf")]
        internal static partial int VsnPrintf(byte* buffer, nuint size, byte* format, IntPtr args);
    }
}
