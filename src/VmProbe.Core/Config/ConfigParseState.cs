using static VmProbe.Config.ConfigLoader;

namespace VmProbe.Config;

/// <summary>
/// What parsing one config file gathers: its errors and warnings (at most <see cref="MaxDiagnostics"/> each, the rest
/// summed up by <see cref="Finish"/>; an identical one is reported once), and the line of every key and event for <c>--check</c>.
/// </summary>
internal sealed class ConfigParseState(string file)
{
    public string File { get; } = file;

    public List<ConfigError> Errors { get; } = new();

    public List<ConfigWarning> Warnings { get; } = new();

    // Identical diagnostics (same line, key and message: one aliased node used twice on a line) are reported once.
    private readonly HashSet<(bool Error, int? Line, string Key, string Message)> reported = new();
    private int droppedErrors;
    private int droppedWarnings;

    public Dictionary<string, int> KeyLines { get; } = new(StringComparer.Ordinal);

    public List<int> EventLines { get; } = new();

    public List<string> EventKeys { get; } = new();

    public void Error(int? line, string key, string message)
    {
        if (!reported.Add((true, line, key, message)))
        {
            return;
        }

        if (Errors.Count < MaxDiagnostics)
        {
            Errors.Add(new ConfigError(File, line, key, StripKey(key, message)));
        }
        else
        {
            droppedErrors++;
        }
    }

    public void Warn(int? line, string key, string message)
    {
        if (!reported.Add((false, line, key, message)))
        {
            return;
        }

        if (Warnings.Count < MaxDiagnostics)
        {
            Warnings.Add(new ConfigWarning(File, line, key, StripKey(key, message)));
        }
        else
        {
            droppedWarnings++;
        }
    }

    /// <summary>Adds one line for the errors and warnings beyond <see cref="MaxDiagnostics"/>.</summary>
    public void Finish()
    {
        if (droppedErrors > 0)
        {
            Errors.Add(new ConfigError(File, null, FileKey, $"{droppedErrors} more error(s) not shown"));
        }

        if (droppedWarnings > 0)
        {
            Warnings.Add(new ConfigWarning(File, null, FileKey, $"{droppedWarnings} more warning(s) not shown"));
        }
    }

    // The key is printed before the message (file:line: key: message): do not say it twice.
    private static string StripKey(string key, string message) =>
        message.StartsWith(key + ": ", StringComparison.Ordinal) ? message[(key.Length + 2)..] : message;
}
