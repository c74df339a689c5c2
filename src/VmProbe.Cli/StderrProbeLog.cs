using System.Globalization;

namespace VmProbe.Cli;

/// <summary>One line per event on stderr: <c>2026-11-22T10:00:00.123Z info  message</c>.</summary>
internal sealed class StderrProbeLog : IConcurrentProbeLog
{
    private readonly TextWriter _writer;
    private readonly LogLevel _minimum;
    private readonly Func<DateTimeOffset> _now;
    private readonly object _gate = new();

    public StderrProbeLog(TextWriter writer, LogLevel minimum, Func<DateTimeOffset>? now = null)
    {
        _writer = writer;
        _minimum = minimum;
        _now = now ?? (() => DateTimeOffset.UtcNow);
    }

    public bool IsEnabled(LogLevel level) => level >= _minimum;

    public void Write(LogLevel level, string message)
    {
        if (!IsEnabled(level))
        {
            return;
        }

        // A message must stay one line, or a log reader would take its continuation for a new event.
        var line = message.Contains('\n', StringComparison.Ordinal) ? message.ReplaceLineEndings(" | ") : message;
        var stamp = _now().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        lock (_gate)
        {
            _writer.Write(stamp);
            _writer.Write(' ');
            _writer.Write(LevelName(level));
            _writer.Write(' ');
            _writer.WriteLine(line);
            _writer.Flush();
        }
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Debug => "debug",
        LogLevel.Info => "info ",
        LogLevel.Warning => "warn ",
        _ => "error",
    };
}
