using VmProbe.Native;

namespace VmProbe.Procfs;

/// <summary>
/// A procfs file kept open across cycles and re-read with pread at offset 0 (procfs regenerates the content): the
/// open and close of a per-thread file cost two thirds of reading it. Bound to the thread it was opened for, so a
/// read after the thread exits fails (ESRCH) even if its id is reused. Its fd is counted as <see cref="FdKind.KeptProcfs"/>:
/// kept files use RLIMIT_NOFILE like perf fds (see <c>PerfFdBudget</c>).
/// </summary>
internal sealed class KeptProcFile : IDisposable
{
    internal KeptProcFile(SafeFdHandle handle, int pid, int tid, string name)
    {
        Handle = handle.Track(FdKind.KeptProcfs);
        Pid = pid;
        ThreadId = tid;
        Name = name;
    }

    /// <summary>Kept procfs fds open right now in this process.</summary>
    public static long OpenCount => SafeFdHandle.OpenCount(FdKind.KeptProcfs);

    public int Pid { get; }

    public int ThreadId { get; }

    /// <summary>The file name under /proc/PID/task/TID (<c>schedstat</c>, <c>stat</c>).</summary>
    public string Name { get; }

    internal SafeFdHandle Handle { get; }

    public void Dispose() => Handle.Dispose();
}
