namespace VmProbe.Config;

/// <summary>
/// A config file that cannot be used. <see cref="Errors"/> holds every problem found in the file (not only the first);
/// <see cref="File"/>, <see cref="Line"/> and <see cref="Key"/> are those of the first.
/// </summary>
public sealed class ConfigException : VmProbeException
{
    public ConfigException(IReadOnlyList<ConfigError> errors, string errorId = "config,invalid", ProbeErrorKind kind = ProbeErrorKind.InvalidData, Exception? inner = null)
        : base(BuildMessage(errors), errorId, kind, inner)
    {
        Errors = errors;
        RecommendedAction = "Fix the config file at the line shown; the README's configuration reference lists the keys and values.";
    }

    public IReadOnlyList<ConfigError> Errors { get; }

    /// <summary>The file's warnings (unknown keys, repeated items), shown with its errors.</summary>
    public IReadOnlyList<ConfigWarning> Warnings { get; init; } = Array.Empty<ConfigWarning>();

    public string File => Errors[0].File;

    /// <summary>1-based line of the first error; null when the file itself could not be read.</summary>
    public int? Line => Errors[0].Line;

    public string? Key => Errors[0].Key;

    private static string BuildMessage(IReadOnlyList<ConfigError> errors)
    {
        if (errors is null || errors.Count == 0)
        {
            throw new ArgumentException("a ConfigException needs at least one error", nameof(errors));
        }

        return errors.Count == 1
            ? errors[0].ToString()
            : $"{errors.Count} errors in config {errors[0].File}:" + string.Concat(errors.Select(e => Environment.NewLine + "  " + e));
    }
}
