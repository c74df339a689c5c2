using VmProbe.Config;
using VmProbe.Perf;
using VmProbe.Prometheus;

namespace VmProbe.Commands.Engine;

// The cmdlets reach every engine service through these interfaces, set in EngineServices.
// Each method reports per-item failures (one domain, one event) as VmProbeExceptions in `errors`
// and throws only when nothing at all can be done.

/// <summary>Finds domains (libvirt, or a /proc scan).</summary>
internal interface IDomainProvider
{
    /// <summary>Running domains at <paramref name="uri"/>, and inactive ones too when <paramref name="includeInactive"/>.</summary>
    IReadOnlyList<VmDomain> GetDomains(string uri, bool includeInactive, IProbeLog log);
}

/// <summary>The perf event catalog: every event the config accepts, with support probed on this machine.</summary>
internal interface IPerfEventCatalog
{
    IReadOnlyList<VmPerfEventInfo> ListEvents();

    /// <summary>Resolves a canonical name or alias (case-insensitive); null when unknown.</summary>
    PerfEventSpec? Resolve(string name);
}

/// <summary>Opens perf counter groups for domains (and the host) that stay open until disposed.</summary>
internal interface IPerfSessionEngine
{
    IPerfCounterSession Open(
        IReadOnlyList<PerfEventSpec> events,
        IReadOnlyList<VmDomain> domains,
        bool includeHost,
        PerfAttribution attribution,
        bool perCpu,
        ICollection<VmProbeException> errors,
        IProbeLog log);
}

/// <summary>Open perf fds of one session. Read is cumulative since the session opened.</summary>
internal interface IPerfCounterSession : IDisposable
{
    int OpenFds { get; }

    /// <summary>The domains counted (those that failed to open are not).</summary>
    IReadOnlyList<VmDomain> CountedDomains { get; }

    /// <summary>True when nothing is counted: no domain opened and no host.</summary>
    bool IsEmpty { get; }

    IReadOnlyList<VmPerfSample> Read(bool perVcpu, DateTimeOffset timestamp, ICollection<VmProbeException> errors);
}

/// <summary>
/// Per-domain and per-vCPU-thread procfs statistics (schedstat, page faults, guest time, threads): the runner's procfs
/// source, flattened. State persists across calls so counters never go backwards when a thread exits.
/// </summary>
internal interface ISchedStatReader
{
    /// <summary>A domain without a readable QEMU process goes to <paramref name="errors"/>; the others are read.</summary>
    IReadOnlyList<VmStatSample> Read(IReadOnlyList<VmDomain> domains, DateTimeOffset timestamp, ICollection<VmProbeException> errors, IProbeLog log);
}

/// <summary>libvirt bulk statistics (virConnectGetAllDomainStats) as flat samples.</summary>
internal interface IDomainStatReader
{
    /// <summary>Stats of <paramref name="domains"/>, or of every running domain at <paramref name="uri"/> when null.</summary>
    IReadOnlyList<VmStatSample> Read(string uri, IReadOnlyList<VmDomain>? domains, DateTimeOffset timestamp, ICollection<VmProbeException> errors, IProbeLog log);
}

/// <summary>Host-wide procfs statistics (/proc/stat, /proc/meminfo, /proc/schedstat, ...) as flat samples.</summary>
internal interface IHostStatReader
{
    IReadOnlyList<VmStatSample> Read(DateTimeOffset timestamp, ICollection<VmProbeException> errors, IProbeLog log);
}

/// <summary>Reads and validates a config file (YAML or the C++ vmprobe's key=value form).</summary>
internal interface IConfigLoader
{
    /// <summary>Loads <paramref name="path"/>, or the default config location when null.</summary>
    ProbeConfig Load(string? path);
}

/// <summary>The Prometheus text exposition writer.</summary>
internal interface IPromTextWriter
{
    string Render(MetricSet metrics, string prefix);

    /// <summary>Writes the whole file or nothing (temporary file + rename).</summary>
    void WriteAtomic(string path, MetricSet metrics, string prefix);
}
