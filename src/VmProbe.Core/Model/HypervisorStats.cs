namespace VmProbe;

/// <summary>How a hypervisor statistic from libvirt's bulk stats is aggregated: its <c>.cur</c>, <c>.sum</c> or <c>.max</c> suffix.</summary>
internal enum HypervisorStatKind
{
    /// <summary><c>cur</c>: an instant value.</summary>
    Current,

    /// <summary><c>sum</c>: a cumulative value.</summary>
    Sum,

    /// <summary><c>max</c>: a peak value.</summary>
    Max,
}

/// <summary>One hypervisor statistic (<c>vm.NAME.TYPE</c> when <see cref="Vcpu"/> is null, else <c>vcpu.N.NAME.TYPE</c>).</summary>
internal readonly record struct HypervisorStat(int? Vcpu, string Name, HypervisorStatKind Kind, ulong Value);

/// <summary>
/// The hypervisor statistics libvirt returned this cycle (VIR_DOMAIN_STATS_VM and the per-vCPU ones of the vcpu group),
/// by domain UUID: the libvirt source fills it from its one bulk call, the KVM source serves domains from it where
/// it has no stats fds, so that libvirt is asked once per cycle. Cleared at every cycle's start.
/// </summary>
internal sealed class HypervisorStatsShare : ICycleScoped
{
    private readonly Dictionary<Guid, List<HypervisorStat>> _byDomain = new();

    /// <summary>Whether libvirt was asked for VIR_DOMAIN_STATS_VM this cycle and accepted it.</summary>
    public bool VmGroupRequested { get; set; }

    /// <summary>Why VIR_DOMAIN_STATS_VM is not asked for (the daemon or driver rejected it), or null.</summary>
    public string? VmGroupUnavailable { get; set; }

    public void Set(Guid uuid, List<HypervisorStat> stats)
    {
        if (stats.Count > 0)
        {
            _byDomain[uuid] = stats;
        }
    }

    /// <summary>The domain's statistics this cycle, or null when libvirt gave none for it.</summary>
    public IReadOnlyList<HypervisorStat>? For(Guid uuid) => _byDomain.TryGetValue(uuid, out var stats) ? stats : null;

    public void BeginCycle()
    {
        _byDomain.Clear();
        VmGroupRequested = false;
    }
}
