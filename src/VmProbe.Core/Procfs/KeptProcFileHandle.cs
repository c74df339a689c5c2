using System.Runtime.InteropServices;

namespace VmProbe.Procfs;

/// <summary>
/// A procfs file kept open across cycles and re-read with pread at offset 0 (procfs regenerates the content): the
/// open and close of a per-thread file cost two thirds of reading it. Bound to the thread it was opened for, so a
/// read after the thread exits fails (ESRCH) even if its id is reused. Counts live handles process-wide: they use
/// RLIMIT_NOFILE like perf fds (see <see cref="VmProbe.Perf.PerfFdBudget"/>).
/// </summary>
public sealed class KeptProcFileHandle : SafeHandle
{
    private static long openCount;

    internal KeptProcFileHandle(int fd, int pid, int tid, string name)
        : base(new IntPtr(-1), ownsHandle: true)
    {
        SetHandle(new IntPtr(fd));
        Pid = pid;
        ThreadId = tid;
        Name = name;
        Interlocked.Increment(ref openCount);
    }

    /// <summary>Kept procfs fds open right now in this process.</summary>
    public static long OpenCount => Interlocked.Read(ref openCount);

    public int Pid { get; }

    public int ThreadId { get; }

    /// <summary>The file name under /proc/PID/task/TID (<c>schedstat</c>, <c>stat</c>).</summary>
    public string Name { get; }

    public override bool IsInvalid => handle.ToInt64() < 0;

    internal int Fd => (int)handle.ToInt64();

    protected override bool ReleaseHandle()
    {
        Interlocked.Decrement(ref openCount);
        return ProcfsNative.Close(Fd) == 0;
    }
}
