using VmProbe.Composition;
using VmProbe.Config;

namespace VmProbe.Cli;

/// <summary>The production parts of the runner: <see cref="ConfigLoader"/> and the engine's <see cref="ProbeRun"/>, as the module uses them.</summary>
internal static class DefaultWiring
{
    public static RunnerWiring Create() => new()
    {
        LoadConfig = LoadConfig,
        StartProbe = (config, log) => ProbeRun.Start(config, log, clock: ProbeRun.BlockingClock),
        StartProbeWith = (config, log, outputs) => ProbeRun.Start(config, log, clock: ProbeRun.BlockingClock, outputs: outputs),
        CheckHost = CheckHost,
    };

    private static IReadOnlyList<ConfigProblem> CheckHost(LoadedConfig loaded) =>
        loaded.Result is { } result
            ? ConfigHostCheck.Check(result).Select(error => new ConfigProblem(error.File, error.Line ?? 0, error.Key, error.Message)).ToList()
            : Array.Empty<ConfigProblem>();

    private static LoadedConfig LoadConfig(string path)
    {
        try
        {
            var result = ConfigLoader.Load(path);
            return new LoadedConfig(result.Config, result.Warnings.Select(w => w.ToString()).ToList(), result);
        }
        catch (ConfigException e)
        {
            // Every error of the file, each with its line and key, not only the first.
            var problems = e.Errors.Select(error => new ConfigProblem(error.File, error.Line ?? 0, error.Key, error.Message)).ToList();
            throw new ConfigLoadFailedException(problems, e) { Warnings = e.Warnings.Select(w => w.ToString()).ToList() };
        }
    }
}
