using System.Text;
using VmProbe.Prometheus;

namespace VmProbe.Commands.Engine;

/// <summary><see cref="PromTextWriter"/> and <see cref="TextFileWriter"/>: the runner's exact output.</summary>
internal sealed class CorePromTextWriter : IPromTextWriter
{
    public string Render(MetricSet metrics, string prefix) =>
        Encoding.UTF8.GetString(new PromTextWriter(prefix).Render(metrics, out _).Span);

    public void WriteAtomic(string path, MetricSet metrics, string prefix) =>
        new TextFileWriter(path).Write(metrics, new PromTextWriter(prefix));
}
