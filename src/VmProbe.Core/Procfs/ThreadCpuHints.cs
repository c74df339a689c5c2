namespace VmProbe.Procfs;

/// <summary>
/// The CPU each thread inspected this cycle last ran on, as its task <c>stat</c> said when the discovery read its name
/// there: the perf source opens a new thread's counters from that CPU (<c>Perf/OnTargetCpu</c>) without reading the
/// file again. Only a hint (<see cref="TaskStat.CpuHint"/>; -1 unknown). Cleared
/// every cycle; not thread-safe (filled and read on the cycle's thread).
/// </summary>
internal sealed class ThreadCpuHints : ICycleScoped
{
    private readonly Dictionary<int, int> _cpus = new();

    /// <summary>Hints handed out since start (for tests and diagnostics).</summary>
    public long Hits { get; private set; }

    public void Record(int tid, int cpu) => _cpus[tid] = cpu;

    public bool TryGet(int tid, out int cpu)
    {
        if (_cpus.TryGetValue(tid, out cpu))
        {
            Hits++;
            return true;
        }

        return false;
    }

    public void BeginCycle() => _cpus.Clear();
}
