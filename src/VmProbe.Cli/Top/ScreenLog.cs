namespace VmProbe.Cli.Top;

/// <summary>The probe log while the screen is up: stderr would write over the view, so the last line is shown in its footer.</summary>
internal sealed class ScreenLog : IProbeLog
{
    private readonly LogLevel _level;
    private volatile string? _last;

    public ScreenLog(LogLevel level) => _level = level;

    public string? Last => _last;

    public bool IsEnabled(LogLevel level) => level >= _level;

    public void Write(LogLevel level, string message)
    {
        if (IsEnabled(level))
        {
            _last = $"{level.ToString().ToLowerInvariant()}: {message.Split('\n', 2)[0]}";
        }
    }
}
