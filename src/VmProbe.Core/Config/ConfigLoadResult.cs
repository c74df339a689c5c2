namespace VmProbe.Config;

/// <summary>The two syntaxes a config file may have.</summary>
public enum ConfigFormat
{
    Yaml,

    /// <summary>The C++ vmprobe's config.yaml: key=value lines, comma-separated lists, # comments.</summary>
    KeyValue,
}

/// <summary>A loaded config and the warnings about it (the caller logs them).</summary>
public sealed record ConfigLoadResult(ProbeConfig Config, IReadOnlyList<ConfigWarning> Warnings, ConfigFormat Format)
{
    /// <summary>The line each key given in the file was read from (normalized key names, as in <see cref="ConfigLoader.Keys"/>).</summary>
    public IReadOnlyDictionary<string, int> KeyLines { get; init; } = new Dictionary<string, int>();

    /// <summary>The line of each of <see cref="ProbeConfig.Events"/>, in the same order.</summary>
    public IReadOnlyList<int> EventLines { get; init; } = Array.Empty<int>();

    /// <summary>The key each of <see cref="ProbeConfig.Events"/> was listed under, in the same order.</summary>
    public IReadOnlyList<string> EventKeys { get; init; } = Array.Empty<string>();
}
