using VmProbe.Config;
using VmProbe.Composition;

namespace VmProbe.Cli;

/// <summary>A loaded configuration and the loader's warnings, as the runner shows them.</summary>
internal sealed record LoadedConfig(ProbeConfig Config, IReadOnlyList<string> Warnings, ConfigLoadResult? Result = null);

/// <summary>One configuration error: where (file, 1-based line, 0 when unknown), which key, what is wrong.</summary>
internal sealed record ConfigProblem(string? File, int Line, string? Key, string Message)
{
    /// <summary><c>file:line: key: message</c>, leaving out the parts that are unknown.</summary>
    public override string ToString()
    {
        var where = File is null ? string.Empty : Line > 0 ? $"{File}:{Line}: " : $"{File}: ";
        // Every problem carries its key; a message that already starts with "key: " is not prefixed twice.
        var key = string.IsNullOrEmpty(Key) || Message.StartsWith(Key + ": ", StringComparison.Ordinal) ? string.Empty : $"{Key}: ";
        return where + key + Message;
    }
}

/// <summary>Thrown by <see cref="RunnerWiring.LoadConfig"/> when the configuration is invalid; the runner prints the problems and exits 2.</summary>
internal sealed class ConfigLoadFailedException : Exception
{
    public ConfigLoadFailedException(IReadOnlyList<ConfigProblem> problems, Exception? inner = null)
        : base(string.Join(Environment.NewLine, problems), inner)
    {
        Problems = problems;
    }

    public IReadOnlyList<ConfigProblem> Problems { get; }

    /// <summary>The file's warnings, shown before its errors.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();
}

/// <summary>
/// What the runner is built from. The runner's DefaultWiring binds it to the real config loader and
/// <see cref="ProbeRun.Start"/>; tests bind it to test-local parts (<see cref="ProbeRun.FromParts"/>).
/// </summary>
internal sealed class RunnerWiring
{
    /// <summary>Reads and validates the file; throws <see cref="ConfigLoadFailedException"/> for bad input.</summary>
    public required Func<string, LoadedConfig> LoadConfig { get; init; }

    /// <summary>Builds the probe a config describes; throws when it cannot be set up (an unusable endpoint).</summary>
    public required Func<ProbeConfig, IProbeLog, ProbeRun> StartProbe { get; init; }

    /// <summary>
    /// Builds the probe with outputs besides the config's (<c>vmprobe top</c>'s views, <c>--csvdir</c>); null where a
    /// wiring has only <see cref="StartProbe"/>, and then those outputs are refused.
    /// </summary>
    public Func<ProbeConfig, IProbeLog, ProbeOutputs, ProbeRun>? StartProbeWith { get; init; }

    /// <summary>
    /// For <c>--check</c>: what this host would refuse or skip in the loaded config (unknown tracepoints, an endpoint
    /// that cannot be written), as problems with line and key; none by default.
    /// </summary>
    public Func<LoadedConfig, IReadOnlyList<ConfigProblem>> CheckHost { get; init; } = _ => Array.Empty<ConfigProblem>();
}
