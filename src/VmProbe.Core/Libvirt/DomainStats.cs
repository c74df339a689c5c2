namespace VmProbe.Libvirt;

/// <summary>
/// One domain's record from virConnectGetAllDomainStats, decoded by field name. A value libvirt did not send is null
/// (a group not requested, a guest without a balloon driver, a NIC of type user). Units are libvirt's: ns and KiB.
/// </summary>
internal sealed class DomainStats
{
    public required string Name { get; init; }

    public Guid Uuid { get; init; }

    /// <summary>state.state; null when the state group was not returned.</summary>
    public VmDomainState? State { get; internal set; }

    /// <summary>state.reason (virDomain*Reason for the state).</summary>
    public int? StateReason { get; internal set; }

    public ulong? CpuTimeNs { get; internal set; }

    public ulong? CpuUserNs { get; internal set; }

    public ulong? CpuSystemNs { get; internal set; }

    /// <summary>cpu.haltpoll.success.time: ns the vCPUs spent in successful halt polling (libvirt 6.6+, KVM hosts).</summary>
    public ulong? HaltPollSuccessNs { get; internal set; }

    /// <summary>cpu.haltpoll.fail.time: ns the vCPUs spent in halt polling that ended in a sleep anyway.</summary>
    public ulong? HaltPollFailNs { get; internal set; }

    public BalloonStats Balloon { get; } = new();

    /// <summary>vcpu.current.</summary>
    public int? VcpuCurrent { get; internal set; }

    /// <summary>vcpu.maximum.</summary>
    public int? VcpuMaximum { get; internal set; }

    /// <summary>vcpu.N.*, ordered by index; only the indexes libvirt sent.</summary>
    public List<VcpuStats> Vcpus { get; } = new();

    /// <summary>net.count: may exceed <see cref="Interfaces"/>.Count (a type='user' NIC has no net.N.* fields).</summary>
    public int? NetCount { get; internal set; }

    public List<InterfaceStats> Interfaces { get; } = new();

    /// <summary>block.count.</summary>
    public int? BlockCount { get; internal set; }

    public List<BlockStats> Blocks { get; } = new();

    /// <summary>
    /// Hypervisor statistics: <c>vm.NAME.TYPE</c> (VIR_DOMAIN_STATS_VM) and <c>vcpu.N.NAME.TYPE</c> (the vcpu group, when
    /// QEMU has query-stats), TYPE being cur, sum or max; raw, in the hypervisor's units (libvirt passes no unit).
    /// </summary>
    public List<HypervisorStat> HypervisorStats { get; } = new();

    /// <summary>Every typed parameter as sent (name -> int/uint/long/ulong/double/bool/string), when asked for; otherwise null.</summary>
    public Dictionary<string, object>? Raw { get; internal set; }

    public override string ToString() => Name;
}

/// <summary>balloon.* in KiB (faults are counts); null when the guest does not report it.</summary>
internal sealed class BalloonStats
{
    public ulong? CurrentKiB { get; internal set; }

    public ulong? MaximumKiB { get; internal set; }

    public ulong? RssKiB { get; internal set; }

    public ulong? UnusedKiB { get; internal set; }

    public ulong? AvailableKiB { get; internal set; }

    public ulong? UsableKiB { get; internal set; }

    public ulong? SwapInKiB { get; internal set; }

    public ulong? SwapOutKiB { get; internal set; }

    public ulong? MajorFaults { get; internal set; }

    public ulong? MinorFaults { get; internal set; }

    public ulong? DiskCachesKiB { get; internal set; }

    /// <summary>balloon.last-update: guest timestamp (s) of the guest-reported values.</summary>
    public ulong? LastUpdate { get; internal set; }
}

/// <summary>vcpu.N.*: state (virVcpuState), time (ns on CPU), wait (ns waiting for a host CPU), delay (ns in the run queue).</summary>
internal sealed class VcpuStats
{
    public int Index { get; init; }

    public int? State { get; internal set; }

    public ulong? TimeNs { get; internal set; }

    public ulong? WaitNs { get; internal set; }

    public ulong? DelayNs { get; internal set; }

    public bool? Halted { get; internal set; }
}

/// <summary>net.N.*.</summary>
internal sealed class InterfaceStats
{
    public int Index { get; init; }

    public string? Name { get; internal set; }

    public ulong? RxBytes { get; internal set; }

    public ulong? RxPackets { get; internal set; }

    public ulong? RxErrors { get; internal set; }

    public ulong? RxDrops { get; internal set; }

    public ulong? TxBytes { get; internal set; }

    public ulong? TxPackets { get; internal set; }

    public ulong? TxErrors { get; internal set; }

    public ulong? TxDrops { get; internal set; }
}

/// <summary>block.N.*.</summary>
internal sealed class BlockStats
{
    public int Index { get; init; }

    public string? Name { get; internal set; }

    public string? Path { get; internal set; }

    public ulong? ReadRequests { get; internal set; }

    public ulong? ReadBytes { get; internal set; }

    public ulong? ReadTimeNs { get; internal set; }

    public ulong? WriteRequests { get; internal set; }

    public ulong? WriteBytes { get; internal set; }

    public ulong? WriteTimeNs { get; internal set; }

    public ulong? FlushRequests { get; internal set; }

    public ulong? FlushTimeNs { get; internal set; }

    public ulong? AllocationBytes { get; internal set; }

    public ulong? CapacityBytes { get; internal set; }

    public ulong? PhysicalBytes { get; internal set; }
}
