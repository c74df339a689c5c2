using VmProbe.Config;

namespace VmProbe.Kvm;

/// <summary>What the KVM statistics source reads: per domain, per vCPU or nothing, and which statistics (globs; all when empty).
/// The runner's config converts to it (<c>ProbeConfig</c>).</summary>
public sealed record KvmStatsOptions
{
    public KvmStatsMode Mode { get; init; } = KvmStatsMode.Vm;

    public IReadOnlyList<string> Allow { get; init; } = Array.Empty<string>();
}
