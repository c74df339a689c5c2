using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int ClockThreadCpuTime = 3;
        internal const int ClockBootTime = 7;

        /// <summary>struct timespec on LP64: time_t tv_sec; long tv_nsec.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct TimeSpec
        {
            public long Seconds;
            public long Nanoseconds;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "clock_gettime", SetLastError = true)]
        internal static unsafe partial int ClockGetTime(int clock, TimeSpec* time);
    }
}
