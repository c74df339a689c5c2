namespace VmProbe.Config;

/// <summary>One problem in a config file: where (file, 1-based line, key) and what was expected.</summary>
public sealed record ConfigError(string File, int? Line, string? Key, string Message)
{
    public override string ToString() => ConfigLocation.Format(File, Line, Key, Message);
}

/// <summary>Something in a config file that is accepted but probably not what was meant (unknown key, event under the wrong key).</summary>
public sealed record ConfigWarning(string File, int? Line, string? Key, string Message)
{
    public override string ToString() => ConfigLocation.Format(File, Line, Key, Message);
}

internal static class ConfigLocation
{
    /// <summary>The documented form <c>file:line: key: message</c>, leaving out the parts that are unknown.</summary>
    public static string Format(string file, int? line, string? key, string message)
    {
        var where = line is { } l ? $"{file}:{l}: " : $"{file}: ";
        return string.IsNullOrEmpty(key) || message.StartsWith(key + ": ", StringComparison.Ordinal) ? where + message : $"{where}{key}: {message}";
    }
}
