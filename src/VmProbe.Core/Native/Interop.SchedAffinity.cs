using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>
        /// sched_getaffinity(2) for <paramref name="tid"/> (0: the calling thread): the CPUs it may run on, one bit per
        /// CPU in <paramref name="mask"/> (<paramref name="maskBytes"/> long, a multiple of 8). Returns 0 or -1 and errno
        /// (EINVAL when the mask is smaller than the kernel's).
        /// </summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "sched_getaffinity", SetLastError = true)]
        internal static unsafe partial int SchedGetAffinity(int tid, nuint maskBytes, ulong* mask);

        /// <summary>sched_setaffinity(2): the calling thread (<paramref name="tid"/> 0) moves to an allowed CPU before it returns.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "sched_setaffinity", SetLastError = true)]
        internal static unsafe partial int SchedSetAffinity(int tid, nuint maskBytes, ulong* mask);
    }
}
