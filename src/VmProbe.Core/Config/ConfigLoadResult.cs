namespace VmProbe.Config;

/// <summary>The two syntaxes a config file may have.</summary>
public enum ConfigFormat
{
    Yaml,

    /// <summary>The C++ vmprobe's config.yaml: key=value lines, comma-separated lists, # comments.</summary>
    KeyValue,
}

/// <summary>A loaded config and the warnings about it (the caller logs them).</summary>
public sealed record ConfigLoadResult(ProbeConfig Config, IReadOnlyList<ConfigWarning> Warnings, ConfigFormat Format);
