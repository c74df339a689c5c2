namespace VmProbe;

public enum LogLevel
{
    Debug,
    Info,
    Warning,
    Error,
}

/// <summary>
/// The engine's only logging seam: the runner writes lines to stderr, the cmdlets route them to
/// WriteVerbose/WriteWarning. Kept tiny on purpose (no Microsoft.Extensions.Logging in a pwsh module).
/// </summary>
public interface IProbeLog
{
    bool IsEnabled(LogLevel level);

    void Write(LogLevel level, string message);
}

/// <summary>A log whose <see cref="IProbeLog.Write"/> may be called from any thread at once (the engine then sets up in the background).</summary>
public interface IConcurrentProbeLog : IProbeLog
{
}

public sealed class NullProbeLog : IProbeLog
{
    public static readonly NullProbeLog Instance = new();

    public bool IsEnabled(LogLevel level) => false;

    public void Write(LogLevel level, string message)
    {
    }
}
