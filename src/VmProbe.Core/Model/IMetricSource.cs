namespace VmProbe;

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
