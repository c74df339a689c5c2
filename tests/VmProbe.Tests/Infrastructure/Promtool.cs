namespace VmProbe.Tests.Infrastructure;

/// <summary>
/// The real <c>promtool</c> (Debian package <c>prometheus</c>). <see cref="Check"/> runs <c>promtool check metrics</c>,
/// which exits 0 for a clean exposition, 1 for a parse error and 3 for lint problems (missing HELP, a counter
/// without <c>_total</c>, unit abbreviations). It does not catch timestamps, duplicate series or negative counters:
/// use <see cref="NodeExporterHost"/> for those.
/// Tests call <c>Skip.IfNot(Promtool.IsAvailable, Promtool.UnavailableReason)</c> first.
/// </summary>
public static class Promtool
{
    public static string? ExecutablePath { get; } = Requirements.FindCommand("promtool");

    public static bool IsAvailable => ExecutablePath is not null;

    public const string UnavailableReason = "promtool is not installed (Debian package 'prometheus')";

    /// <summary>Feeds <paramref name="exposition"/> to <c>promtool check metrics</c> on stdin.</summary>
    /// <returns>The exit code and stdout+stderr (empty when the text is clean).</returns>
    public static (int ExitCode, string Output) Check(string exposition)
    {
        var path = ExecutablePath ?? throw new InvalidOperationException(UnavailableReason);
        var (exitCode, stdout, stderr) = Requirements.Run(path, "check metrics", stdin: exposition);
        return (exitCode, (stdout + stderr).Trim());
    }
}
