
namespace VmProbe.Tests.Prometheus;

/// <summary>An IProbeLog that keeps what it was told, for asserting on warnings.</summary>
public sealed class ListLog : IProbeLog
{
    public List<(LogLevel Level, string Message)> Lines { get; } = new();

    public bool IsEnabled(LogLevel level) => true;

    public void Write(LogLevel level, string message)
    {
        lock (Lines)
        {
            Lines.Add((level, message));
        }
    }
}
