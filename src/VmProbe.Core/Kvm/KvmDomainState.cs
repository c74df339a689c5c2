namespace VmProbe.Kvm;

/// <summary>
/// What the KVM source keeps for one QEMU process: its duplicated stats fds, when to look for them again, the fds whose
/// blob broke the layout (skipped until the process changes), and the log lines already written for it. Everything
/// goes with the process (<see cref="KvmStatsSource"/> drops the state when the domain is gone), so nothing kept here
/// grows with pid churn.
/// </summary>
internal sealed class KvmDomainState : IDisposable
{
    public KvmDomainState(ulong startTicks) => StartTicks = startTicks;

    public List<KvmStatsFd> Fds { get; } = new();

    /// <summary>The fds' snapshots of the cycle (the list reused).</summary>
    public List<KvmStatsSnapshot> Snapshots { get; } = new();

    /// <summary>The per-domain sums of the fds' statistics, planned once for the fds held.</summary>
    public KvmStatsAggregation Sums { get; } = new();

    public int CyclesUntilRescan { get; set; }

    /// <summary>The process' open fd count at the last look for stats fds (0 when the kernel does not report it).</summary>
    public long FdCountAtLastLook { get; set; } = -1;

    /// <summary>Looks skipped since the last one made, because the fd count had not changed.</summary>
    public int LooksSkipped { get; set; }

    /// <summary>The process' start time (/proc/PID/stat starttime): a different one is another process under a reused pid.</summary>
    public ulong StartTicks { get; }

    /// <summary>Stats fds (number and link) whose blob or read failed: not duplicated again while this process lives.</summary>
    public HashSet<KvmStatsFdLink> Bad { get; } = new();

    /// <summary>The source that served the domain last cycle (binary, libvirt, debugfs), or null.</summary>
    public string? Source { get; set; }

    /// <summary>Log-once keys of this process (its source changes, its errors).</summary>
    public HashSet<string> Logged { get; } = new(StringComparer.Ordinal);

    public void CloseFds()
    {
        foreach (var fd in Fds)
        {
            fd.Dispose();
        }

        Fds.Clear();
        Snapshots.Clear();
        Sums.Forget(); // nor are the closed fds' buffers kept by the sums' plan
    }

    public void Dispose() => CloseFds();
}
