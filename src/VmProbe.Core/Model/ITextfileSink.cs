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
}
