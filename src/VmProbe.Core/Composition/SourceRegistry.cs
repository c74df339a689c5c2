using VmProbe.Config;
using VmProbe.Kvm;
using VmProbe.Libvirt;
using VmProbe.Perf;
using VmProbe.Power;
using VmProbe.Procfs;

namespace VmProbe.Composition;

/// <summary>What a source is built from: the config, the log, where the host's files are, and the shared libvirt session.</summary>
internal sealed record SourceBuildContext(ProbeConfig Config, IProbeLog Log, ProbeCompositionOptions Options, LibvirtSession? LibvirtSession);

/// <summary>One metric source the probe can build, and when the config asks for it.</summary>
public sealed class SourceRegistration
{
    internal SourceRegistration(string name, string description, Func<ProbeConfig, bool> isEnabled, Func<SourceBuildContext, IMetricSource> create)
    {
        Name = name;
        Description = description;
        IsEnabled = isEnabled;
        Create = create;
    }

    /// <summary>The <c>source</c> label and what <c>--check</c> lists.</summary>
    public string Name { get; }

    /// <summary>One line for <c>--check</c> and the docs.</summary>
    public string Description { get; }

    /// <summary>Whether a config uses this source.</summary>
    public Func<ProbeConfig, bool> IsEnabled { get; }

    /// <summary>Builds it; must open nothing that can fail (a source that cannot work reports it per cycle).</summary>
    internal Func<SourceBuildContext, IMetricSource> Create { get; }
}

/// <summary>
/// Every metric source, in collection order. Both front ends build their sources from this list (the runner through
/// <see cref="ProbeComposition"/>, <c>vmprobe --check</c> lists it), so adding a source is one class in its folder
/// and one line here (docs/ARCHITECTURE.md walks through it).
/// </summary>
public static class SourceRegistry
{
    public static IReadOnlyList<SourceRegistration> All { get; } = new SourceRegistration[]
    {
        new(HostProcfsSource.SourceName, "host CPU, memory, scheduler and pressure figures from /proc",
            _ => true, b => new HostProcfsSource(b.Options.Root)),
        new(DomainProcfsSource.SourceName, "per-domain and per-vCPU scheduler wait, run time, faults and guest time from /proc/PID/task",
            _ => true, b => DomainProcfsSource.WithTaskIterator(b.Options.Root)),
        new(LibvirtDomainSource.SourceName, "libvirt bulk stats: state, CPU, balloon, vCPUs, block, network",
            UsesLibvirt, b => new LibvirtDomainSource(b.LibvirtSession!, requestVmGroup: b.Config.KvmStats != KvmStatsMode.Off, log: b.Log)),
        new(PerfMetricsSource.SourceName, "perf_event counters per domain, per vCPU and for the host",
            config => config.Events.Count > 0, b => new PerfMetricsSource(b.Config, b.Log)),
        new(KvmStatsSource.SourceName, "KVM's own statistics per VM and vCPU (stats fds duplicated from QEMU)",
            config => config.KvmStats != KvmStatsMode.Off, b => new KvmStatsSource(b.Config, b.Log, b.Options.Root)),
        new(Kvm.Exits.KvmExitsSource.SourceName, "VM exits by reason, their handling time and KVM events per VM (eBPF, else perf-filtered kvm:kvm_exit)",
            config => config.KvmExits != Kvm.Exits.KvmExitsMode.Off, b => new Kvm.Exits.KvmExitsSource(b.Config, b.Log, b.Options.Root)),
        new(PowerSource.SourceName, "host energy (perf power PMU, powercap, hwmon, powermeter) and each domain's share; after host, procfs and perf, whose activity it divides by",
            _ => true, b => new PowerSource((PowerOptions)b.Config with { Sysfs = b.Options.Root == "/" ? null : Path.Combine(b.Options.Root, "sys") }, b.Log)),
        new(GuestApi.GuestApiSource.SourceName, "the guest endpoint (guestapi): a VM's own perf counters, streamed to it on request",
            config => config.GuestApi.Count > 0, b => new GuestApi.GuestApiSource(b.Config, b.Log)),
    };

    /// <summary>The sources <paramref name="config"/> uses, in collection order.</summary>
    public static IEnumerable<SourceRegistration> EnabledFor(ProbeConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return All.Where(registration => registration.IsEnabled(config));
    }

    /// <summary>Whether the config's discovery talks to libvirt (and so libvirt's bulk stats can be read).</summary>
    public static bool UsesLibvirt(ProbeConfig config) => config.Discovery is DomainDiscovery.Auto or DomainDiscovery.Libvirt;
}
