
namespace VmProbe.Prometheus;

/// <summary>
/// The runner's sink: renders each cycle with one reused <see cref="PromTextWriter"/> (the configured prefix) and
/// replaces the endpoint atomically with one reused <see cref="TextFileWriter"/>. With <c>naming: legacy</c> each cycle
/// goes through a <see cref="LegacyExposition"/> first (the C++ vmprobe's names and per-interval perf deltas).
/// </summary>
internal sealed class PromTextfileSink : ITextfileSink
{
    private readonly PromTextWriter _writer;
    private readonly TextFileWriter _file;
    private readonly LegacyExposition? _legacy;
    private readonly IProbeLog _log;

    /// <exception cref="VmProbeException">The prefix clashes with node_exporter's names, or the endpoint is not a .prom file.</exception>
    public PromTextfileSink(string endpointPath, string prefix, IProbeLog log, LegacyExposition? legacy = null)
    {
        _legacy = legacy;
        _log = log;
        _writer = new PromTextWriter(prefix, log);
        _file = new TextFileWriter(endpointPath, log);
    }

    public string Destination => _file.EndpointPath;

    /// <summary>The writer's report on the last export (series or families dropped as duplicates).</summary>
    public PromWriteResult? LastResult { get; private set; }

    /// <summary>Series keys the writer keeps for the next export (for tests).</summary>
    internal int CachedSeriesCount => _writer.CachedSeriesCount;

    public void Export(MetricSet metrics) => Write(metrics, _writer);

    // Rendering each key straight into the file costs about half of first caching it (a one-shot --once file at 200
    // VMs: ~20 against ~40 ms of CPU), and nothing follows to reuse the cache.
    public void ExportLast(MetricSet metrics) =>
        Write(metrics, new PromTextWriter(_writer.Prefix, _log) { CacheSeries = false });

    private void Write(MetricSet metrics, PromTextWriter writer) =>
        LastResult = _file.Write(_legacy is null ? metrics : _legacy.Transform(metrics), writer);
}
