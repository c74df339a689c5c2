namespace VmProbe.Views;

/// <summary>A named per-second rate of one VM (an exit reason, a perf event); null on the series' first reading.</summary>
public sealed record ViewRate(string Name, double? PerSecond);

/// <summary>One vCPU of a VM: host CPU its thread used (cores), its wait for a host CPU over wall time (steal), its exits.</summary>
public sealed record VcpuViewRow(string Vcpu, double? CpuCores, double? StealRatio, double? ExitsPerSecond);

/// <summary>
/// One VM over one interval, as the terminal view, the log lines and the per-VM CSV show it. A value is null when its
/// source did not run or the series is new this cycle (a rate needs two readings).
/// </summary>
public sealed record VmViewRow(string Name, string Uuid)
{
    /// <summary>Host CPU used by all the VM's QEMU threads, in cores (1.0 = one host CPU busy).</summary>
    public double? CpuCores { get; init; }

    /// <summary>
    /// The worst vCPU's steal: its run-queue wait over the interval's wall time, the share of time it spent waiting for
    /// a host CPU (what the guest's %st shows; <c>vmprobe:domain_steal:max_ratio_rate1m</c> in the rules).
    /// </summary>
    public double? StealRatio { get; init; }

    /// <summary>Time running guest code under KVM, in cores.</summary>
    public double? GuestCores { get; init; }

    public double? ExitsPerSecond { get; init; }

    public string? TopExitReason { get; init; }

    /// <summary>Halt polling that found work / all halt polling time.</summary>
    public double? HaltPollSuccessRatio { get; init; }

    /// <summary>Instructions per cycle (perf instructions and cpu_cycles).</summary>
    public double? Ipc { get; init; }

    public double? RssBytes { get; init; }

    public double? DiskReadBytesPerSecond { get; init; }

    public double? DiskWriteBytesPerSecond { get; init; }

    public double? NetReceiveBytesPerSecond { get; init; }

    public double? NetTransmitBytesPerSecond { get; init; }

    /// <summary>Power from <c>domain_energy_joules_total</c>.</summary>
    public double? Watts { get; init; }

    /// <summary>True when the VM has an energy series (power is measured), even before its first rate.</summary>
    public bool EnergyMeasured { get; init; }

    public double? DiskBytesPerSecond => Sum(DiskReadBytesPerSecond, DiskWriteBytesPerSecond);

    public double? NetBytesPerSecond => Sum(NetReceiveBytesPerSecond, NetTransmitBytesPerSecond);

    public IReadOnlyList<VcpuViewRow> Vcpus { get; init; } = Array.Empty<VcpuViewRow>();

    /// <summary>Exits by reason, most frequent first.</summary>
    public IReadOnlyList<ViewRate> ExitReasons { get; init; } = Array.Empty<ViewRate>();

    /// <summary>Perf events by canonical name, in name order.</summary>
    public IReadOnlyList<ViewRate> Events { get; init; } = Array.Empty<ViewRate>();

    private static double? Sum(double? a, double? b) => a is null && b is null ? null : (a ?? 0) + (b ?? 0);
}

/// <summary>One cycle as people look at it: the host's CPU by mode and one row per VM.</summary>
/// <param name="Timestamp">When the cycle started.</param>
/// <param name="IntervalSeconds">Seconds since the previous cycle; null for the first (no rates yet).</param>
/// <param name="HostCpuCores">Host CPU by /proc/stat mode (user, system, ..., steal, guest), in cores.</param>
public sealed record ViewFrame(
    DateTimeOffset Timestamp, double? IntervalSeconds, IReadOnlyList<ViewRate> HostCpuCores, IReadOnlyList<VmViewRow> Vms)
{
    /// <summary>The host has an energy meter (<c>host_energy_joules_total</c> from the first cycle), whether or not any VM has a share yet.</summary>
    public bool PowerMeasured { get; init; }
}

/// <summary>Something that shows or records each cycle's <see cref="ViewFrame"/> (the terminal view, log lines, per-VM CSV).</summary>
public interface IViewConsumer
{
    /// <summary>Called on the cycle's thread, once per cycle.</summary>
    void Show(ViewFrame frame);
}
