using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>__NR_perf_event_open on x86_64; glibc has no wrapper.</summary>
        internal const long SysPerfEventOpen = 298;

        /// <summary>
        /// syscall(__NR_perf_event_open, attr, pid, cpu, group_fd, flags): the only use of syscall(2), so it has this one
        /// signature. <paramref name="groupFd"/> is <see cref="SafeFdHandle.None"/> for a leader; <paramref name="pid"/> is a
        /// cgroup directory fd with PERF_FLAG_PID_CGROUP. Returns the fd (invalid and errno on failure); track it as
        /// <see cref="FdKind.PerfEvent"/>.
        /// </summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
        internal static unsafe partial SafeFdHandle PerfEventOpen(long number, PerfEventAttr* attr, int pid, int cpu, SafeFdHandle groupFd, ulong flags);
    }
}
