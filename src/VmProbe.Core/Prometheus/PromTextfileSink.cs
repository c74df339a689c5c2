using VmProbe.Probe;

namespace VmProbe.Prometheus;

/// <summary>
/// The runner's sink: renders each cycle with one reused <see cref="PromTextWriter"/> (the configured prefix) and
/// replaces the endpoint atomically with one reused <see cref="TextFileWriter"/>.
/// </summary>
public sealed class PromTextfileSink : ITextfileSink
{
    private readonly PromTextWriter _writer;
    private readonly TextFileWriter _file;

    /// <exception cref="VmProbeException">The prefix clashes with node_exporter's names, or the endpoint is not a .prom file.</exception>
    public PromTextfileSink(string endpointPath, string prefix, IProbeLog log)
    {
        _writer = new PromTextWriter(prefix, log);
        _file = new TextFileWriter(endpointPath, log);
    }

    public string Destination => _file.EndpointPath;

    /// <summary>The writer's report on the last export (series or families dropped as duplicates).</summary>
    public PromWriteResult? LastResult { get; private set; }

    public void Export(MetricSet metrics) => LastResult = _file.Write(metrics, _writer);
}
