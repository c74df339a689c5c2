using VmProbe.Config;
using VmProbe.Perf;
using VmProbe.Probe;
using VmProbe.Prometheus;

namespace VmProbe.Commands.Engine;

/// <summary>
/// The engine services not wired into the module yet: each member is the ONE place that says so.
/// The lead replaces them in <see cref="EngineServices"/> with the engine's implementations.
/// </summary>
internal sealed class UnwiredEngine :
    IDomainProvider, IPerfEventCatalog, IPerfSessionEngine, ISchedStatReader, IDomainStatReader, IHostStatReader, IConfigLoader, IPromTextWriter
{
    public static readonly UnwiredEngine Instance = new();

    private UnwiredEngine()
    {
    }

    public IReadOnlyList<VmDomain> GetDomains(string uri, bool includeInactive, IProbeLog log) =>
        throw new NotImplementedException("engine: libvirt domains");

    public IReadOnlyList<VmPerfEventInfo> ListEvents() =>
        throw new NotImplementedException("engine: perf event catalog");

    public PerfEventSpec? Resolve(string name) =>
        throw new NotImplementedException("engine: perf event catalog");

    public IPerfCounterSession Open(
        IReadOnlyList<PerfEventSpec> events, IReadOnlyList<VmDomain> domains, bool includeHost, PerfAttribution attribution, ICollection<VmProbeException> errors, IProbeLog log) =>
        throw new NotImplementedException("engine: perf sessions");

    public IReadOnlyList<VmSchedSample> Read(VmDomain domain, DateTimeOffset timestamp) =>
        throw new NotImplementedException("engine: procfs schedstat");

    public IReadOnlyList<VmStatSample> Read(string uri, IReadOnlyList<VmDomain>? domains, DateTimeOffset timestamp, ICollection<VmProbeException> errors, IProbeLog log) =>
        throw new NotImplementedException("engine: libvirt bulk stats");

    public IReadOnlyList<VmStatSample> Read(DateTimeOffset timestamp, ICollection<VmProbeException> errors, IProbeLog log) =>
        throw new NotImplementedException("engine: procfs host stats");

    public ProbeConfig Load(string? path) =>
        throw new NotImplementedException("engine: config loader");

    public string Render(MetricSet metrics, string prefix) =>
        throw new NotImplementedException("engine: prometheus text writer");

    public void WriteAtomic(string path, MetricSet metrics, string prefix) =>
        throw new NotImplementedException("engine: prometheus text writer");
}
