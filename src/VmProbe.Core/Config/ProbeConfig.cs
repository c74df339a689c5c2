using VmProbe.Kvm;
using VmProbe.Kvm.Exits;
using VmProbe.GuestApi;
using VmProbe.Perf;
using VmProbe.Power;

namespace VmProbe.Config;

/// <summary>How metric names are formed: the labelled scheme (default) or the C++ vmprobe's names and per-interval values.</summary>
public enum MetricNaming
{
    Labelled,
    Legacy,
}

/// <summary>How domains are found.</summary>
public enum DomainDiscovery
{
    /// <summary>libvirt when the connection opens, a /proc scan for QEMU processes otherwise.</summary>
    Auto,
    Libvirt,
    Process,
}

/// <summary>
/// The validated configuration, from a YAML file or from the C++ vmprobe's key=value config.yaml.
/// Defaults are those of the README's configuration reference.
/// </summary>
public sealed class ProbeConfig
{
    public const string DefaultEndpoint = "/var/lib/prometheus/node-exporter/vmprobe.prom";

    /// <summary>The file it was read from; null for defaults built in code.</summary>
    public string? SourcePath { get; init; }

    public string Prefix { get; init; } = "vmprobe";

    private int _delayMs = 5000;

    /// <summary>Milliseconds between two read sessions; at least 100.</summary>
    public int DelayMs { get => _delayMs; init => _delayMs = value; }

    /// <summary>A copy with another delay (<c>vmprobe top -d</c>), every other key as read.</summary>
    public ProbeConfig WithDelay(int delayMs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delayMs, 100);
        var copy = (ProbeConfig)MemberwiseClone();
        copy._delayMs = delayMs;
        return copy;
    }

    /// <summary>The textfile path; ends in .prom.</summary>
    public string Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>The libvirt URI; local only (<see cref="Libvirt.LibvirtUrlPolicy"/>) unless <see cref="AllowRemoteUrl"/>.</summary>
    public string Url { get; init; } = "qemu:///system";

    /// <summary>Every configured perf event, validated, in config order (hardware, software, hardware-cache, tracepoint).</summary>
    public IReadOnlyList<PerfEventSpec> Events { get; init; } = Array.Empty<PerfEventSpec>();

    public MetricNaming Naming { get; init; } = MetricNaming.Labelled;

    public PerfAttribution Attribution { get; init; } = PerfAttribution.Thread;

    public DomainDiscovery Discovery { get; init; } = DomainDiscovery.Auto;

    /// <summary>Export host perf counters per CPU (label <c>cpu</c>) instead of summed.</summary>
    public bool PerCpu { get; init; }

    /// <summary><c>allowremoteurl</c>: accept any libvirt URI (remote hosts, +ssh, +ext, query parameters), not only local ones.</summary>
    public bool AllowRemoteUrl { get; init; }

    /// <summary><c>kvmstats</c>: vm (default), vcpu or off.</summary>
    public KvmStatsMode KvmStats { get; init; } = KvmStatsMode.Vm;

    /// <summary><c>kvmstatsallow</c>: KVM statistic names (as the kernel names them; a trailing * matches a prefix) to export; empty for all.</summary>
    public IReadOnlyList<string> KvmStatsAllow { get; init; } = Array.Empty<string>();

    /// <summary><c>kvmexits</c>: off, counts (default) or latency.</summary>
    public KvmExitsMode KvmExits { get; init; } = KvmExitsMode.Counts;

    /// <summary><c>kvmexitreasons</c>: exit reasons with a handling-time histogram each (and counted by the perf-filter fallback).</summary>
    public IReadOnlyList<string> KvmExitReasons { get; init; } = Array.Empty<string>();

    /// <summary><c>kvmexittopn</c>: without kvmexitreasons, how many of a domain's most frequent reasons get a histogram.</summary>
    public int KvmExitTopN { get; init; } = KvmExitsOptions.DefaultTopN;

    /// <summary><c>kvmexitpervcpu</c>: exits by reason per vCPU as well.</summary>
    public bool KvmExitPerVcpu { get; init; }

    /// <summary><c>csvdir</c>: also append one CSV per VM there each cycle (<c>DIR/DOMAIN.csv</c>); null for none.</summary>
    public string? CsvDir { get; init; }

    /// <summary><c>powermeter</c>: a shell command printing the platform's power in watts (smart plug, IPMI DCMI), or null.</summary>
    public string? Powermeter { get; init; }

    /// <summary>The power source's part of the config: the powermeter may take the delay, at most 10 s; its reading expires after three intervals.</summary>
    public static implicit operator PowerOptions(ProbeConfig config) =>
        new()
        {
            Powermeter = config.Powermeter,
            PowermeterTimeout = TimeSpan.FromMilliseconds(Math.Min(config.DelayMs, PowerOptions.MaxPowermeterTimeout.TotalMilliseconds)),
            PowermeterMaxAge = TimeSpan.FromMilliseconds(3.0 * config.DelayMs),
        };

    /// <summary><c>guestapi</c>: where the guest endpoint listens; empty (the default) for off.</summary>
    public IReadOnlyList<GuestApiAddress> GuestApi { get; init; } = Array.Empty<GuestApiAddress>();

    /// <summary>The perf source's part of the config.</summary>
    public static implicit operator PerfSourceOptions(ProbeConfig config) =>
        new() { Events = config.Events, Attribution = config.Attribution, PerCpu = config.PerCpu };

    /// <summary>The KVM statistics source's part of the config.</summary>
    public static implicit operator KvmStatsOptions(ProbeConfig config) =>
        new() { Mode = config.KvmStats, Allow = config.KvmStatsAllow };

    /// <summary>The guest endpoint's part of the config (peers are checked against the same libvirt URI).</summary>
    public static implicit operator GuestApiOptions(ProbeConfig config) => new(config.GuestApi, config.Url);

    /// <summary>The kvm exits source's part of the config.</summary>
    public static implicit operator KvmExitsOptions(ProbeConfig config) =>
        new() { Mode = config.KvmExits, Reasons = config.KvmExitReasons, TopN = config.KvmExitTopN, PerVcpu = config.KvmExitPerVcpu };
}
