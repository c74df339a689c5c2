namespace VmProbe.Config;

/// <summary>One problem in a config file: where (file, 1-based line, key) and what was expected.</summary>
public sealed record ConfigError(string File, int? Line, string? Key, string Message)
{
    public override string ToString() => ConfigLocation.Format(File, Line, Message);
}

/// <summary>Something in a config file that is accepted but probably not what was meant (unknown key, event under the wrong key).</summary>
public sealed record ConfigWarning(string File, int? Line, string? Key, string Message)
{
    public override string ToString() => ConfigLocation.Format(File, Line, Message);
}

internal static class ConfigLocation
{
    public static string Format(string file, int? line, string message) =>
        line is { } l ? $"{file}:{l}: {message}" : $"{file}: {message}";
}
