using VmProbe.Config;

namespace VmProbe.Perf;

/// <summary>
/// What the perf source counts: the events, how a domain's counters are attached (thread or cgroup) and whether the host
/// has per-CPU series. The runner's config converts to it (<c>ProbeConfig</c>); a cmdlet session builds it directly.
/// </summary>
public sealed record PerfSourceOptions
{
    public IReadOnlyList<PerfEventSpec> Events { get; init; } = Array.Empty<PerfEventSpec>();

    public PerfAttribution Attribution { get; init; } = PerfAttribution.Thread;

    public bool PerCpu { get; init; }

    /// <summary>Whether domains are counted on their cgroup (one group per CPU) rather than per QEMU thread.</summary>
    internal bool CountsCgroups => Attribution == PerfAttribution.Cgroup;
}
