namespace VmProbe.Kvm.Exits;

/// <summary><c>kvmexits</c>: no exit tracing, exit counts per reason (and the other KVM events), or counts plus the
/// handling-time histograms.</summary>
public enum KvmExitsMode
{
    Off,
    Counts,
    Latency,
}

/// <summary>What the kvm exits source traces; the runner's config converts to it (<c>ProbeConfig</c>).</summary>
public sealed record KvmExitsOptions
{
    public const int DefaultTopN = 5;

    /// <summary>Counts by default: aggregated in the kernel, one map update per exit (see the README for the costs).</summary>
    public KvmExitsMode Mode { get; init; } = KvmExitsMode.Counts;

    /// <summary><c>kvmexitreasons</c>: reasons (names as the kernel prints them, or numbers) whose handling time gets a
    /// histogram of its own, and which the perf-filter fallback counts; empty for the top N and the fallback's defaults.</summary>
    public IReadOnlyList<string> Reasons { get; init; } = Array.Empty<string>();

    /// <summary><c>kvmexittopn</c>: without an allowlist, the most frequent reasons of a domain that get a histogram each.</summary>
    public int TopN { get; init; } = DefaultTopN;

    /// <summary><c>kvmexitpervcpu</c>: also exits by reason per vCPU.</summary>
    public bool PerVcpu { get; init; }
}
