
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

    /// <exception cref="VmProbeException">The prefix clashes with node_exporter's names, or the endpoint is not a .prom file.</exception>
    public PromTextfileSink(string endpointPath, string prefix, IProbeLog log, LegacyExposition? legacy = null)
    {
        _legacy = legacy;
        _writer = new PromTextWriter(prefix, log);
        _file = new TextFileWriter(endpointPath, log);
    }

    public string Destination => _file.EndpointPath;

    /// <summary>The writer's report on the last export (series or families dropped as duplicates).</summary>
    public PromWriteResult? LastResult { get; private set; }

    public void Export(MetricSet metrics) => LastResult = _file.Write(_legacy is null ? metrics : _legacy.Transform(metrics), _writer);
}
