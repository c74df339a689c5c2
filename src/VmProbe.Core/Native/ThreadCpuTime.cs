namespace VmProbe.Native;

/// <summary>The calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID): what a part of a cycle cost, not how long it waited.</summary>
internal static unsafe class ThreadCpuTime
{
    /// <summary>CPU nanoseconds this thread has run; 0 when the clock cannot be read.</summary>
    public static long Nanoseconds()
    {
        Interop.Libc.TimeSpec now;
        return Interop.Libc.ClockGetTime(Interop.Libc.ClockThreadCpuTime, &now) == 0 ? (now.Seconds * 1_000_000_000L) + now.Nanoseconds : 0;
    }
}
