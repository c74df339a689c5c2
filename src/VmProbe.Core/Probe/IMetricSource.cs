using VmProbe.Prometheus;

namespace VmProbe.Probe;

/// <summary>
/// One source of metrics (host procfs, libvirt, per-domain procfs, perf). A source keeps whatever native state it
/// needs across cycles (open perf fds, a libvirt connection) and releases it on Dispose.
/// A source must not let one bad item (a vanished VM, an unsupported event) fail the whole collection:
/// it logs and skips the item. Exceptions that escape <see cref="Collect"/> are counted in
/// <c>probe_errors_total{source=Name}</c> by the cycle, and the other sources still run.
/// </summary>
public interface IMetricSource : IDisposable
{
    /// <summary>Short stable name used as the <c>source</c> label: host, libvirt, procfs, perf.</summary>
    string Name { get; }

    void Collect(CycleContext context, MetricSet metrics);
}

/// <summary>What one collection cycle hands to every source: the domains discovered this cycle, the time, the log.</summary>
public sealed class CycleContext
{
    public CycleContext(IReadOnlyList<VmDomain> domains, DateTimeOffset timestamp, IProbeLog log, CancellationToken cancellationToken)
    {
        Domains = domains;
        Timestamp = timestamp;
        Log = log;
        CancellationToken = cancellationToken;
    }

    /// <summary>Running domains found this cycle (by libvirt or by process scan). Sources must tolerate a domain whose process vanished.</summary>
    public IReadOnlyList<VmDomain> Domains { get; }

    public DateTimeOffset Timestamp { get; }

    public IProbeLog Log { get; }

    public CancellationToken CancellationToken { get; }

    /// <summary>
    /// This cycle's /proc/PID/task listings (made by the discovery or the first source that needed one); sources list a
    /// domain's threads through it so that each task directory is listed once per cycle. Null outside the runner's cycle.
    /// </summary>
    public VmProbe.Procfs.ThreadListingCache? ThreadListings { get; init; }
}
