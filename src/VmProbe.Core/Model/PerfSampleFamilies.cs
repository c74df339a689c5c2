namespace VmProbe;

/// <summary>
/// The perf count and scaling-ratio families a <see cref="VmPerfSample"/> stands for, declared here, below the sources,
/// so that flattening (<see cref="MetricSetSamples"/>) and its way back know them without the perf source. The perf
/// source declares them as its own (<c>Perf.PerfFamilies</c> refers to these instances). The host's counts and ratios
/// have two declarations of the same name: one series per event, or with per-CPU host series one per CPU and event.
/// </summary>
internal static class PerfSampleFamilies
{
    private const string EventsHelp = "Perf event count since the probe started counting the target, scaled for multiplexing (raw * time_enabled / time_running).";
    private const string RatioHelp = "time_running / time_enabled of the perf event: 1 when it was always on the PMU, less when multiplexed.";

    internal static readonly string[] Event = { "event" };
    private static readonly string[] CpuEvent = { "cpu", "event" };
    private static readonly string[] DomainEvent = { "domain", "uuid", "event" };
    private static readonly string[] VcpuEvent = { "domain", "uuid", "vcpu", "event" };

    public static readonly MetricDesc HostEvents = new("host_perf_events_total", MetricType.Counter, "",
        "Host-wide (all tasks, all CPUs) " + EventsHelp, Event);

    public static readonly MetricDesc HostScalingRatio = new("host_perf_scaling_ratio", MetricType.Gauge, "ratio",
        RatioHelp, Event);

    /// <summary><see cref="HostEvents"/> per CPU (per-CPU host series).</summary>
    public static readonly MetricDesc HostCpuEvents = new(HostEvents.Name, MetricType.Counter, "",
        "Host-wide (all tasks) " + EventsHelp, CpuEvent);

    /// <summary><see cref="HostScalingRatio"/> per CPU (per-CPU host series).</summary>
    public static readonly MetricDesc HostCpuScalingRatio = new(HostScalingRatio.Name, MetricType.Gauge, "ratio",
        RatioHelp, CpuEvent);

    public static readonly MetricDesc DomainEvents = new("domain_perf_events_total", MetricType.Counter, "",
        "Domain (all QEMU threads, or its cgroup) " + EventsHelp, DomainEvent);

    public static readonly MetricDesc DomainScalingRatio = new("domain_perf_scaling_ratio", MetricType.Gauge, "ratio",
        RatioHelp, DomainEvent);

    /// <summary>Per vCPU thread, thread attribution only; there is no per-vCPU ratio.</summary>
    public static readonly MetricDesc VcpuEvents = new("domain_vcpu_perf_events_total", MetricType.Counter, "",
        "vCPU thread " + EventsHelp, VcpuEvent);

    /// <summary>
    /// The families a <see cref="VmPerfSample"/> stands for: counts of a scope, and the ratio family whose series pair
    /// with them label for label (null for vCPUs).
    /// </summary>
    internal static readonly (MetricDesc Counts, MetricDesc? Ratios, VmSampleScope Scope)[] SampleFamilies =
    {
        (HostEvents, HostScalingRatio, VmSampleScope.Host),
        (HostCpuEvents, HostCpuScalingRatio, VmSampleScope.Host),
        (DomainEvents, DomainScalingRatio, VmSampleScope.Domain),
        (VcpuEvents, null, VmSampleScope.Vcpu),
    };
}
