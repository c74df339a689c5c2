namespace VmProbe;

/// <summary>
/// Where the loop exports each cycle (the runner binds it to the Prometheus text writer and the atomic textfile writer).
/// <see cref="Export"/> must consume <paramref name="metrics"/> before it returns: the cycle reuses the set next time.
/// </summary>
public interface ITextfileSink
{
    /// <summary>Where the metrics go, for log lines (for example the .prom path).</summary>
    string Destination { get; }

    void Export(MetricSet metrics);

    /// <summary>
    /// The last export (the runner's <c>--once</c>): the same output as <see cref="Export"/>, keeping nothing for a next
    /// one (the Prometheus writer renders each series' key into the file instead of caching it first).
    /// </summary>
    void ExportLast(MetricSet metrics) => Export(metrics);
}
