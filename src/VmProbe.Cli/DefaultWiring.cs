using VmProbe.Config;
using VmProbe.Composition;

namespace VmProbe.Cli;

/// <summary>
/// The production parts of the runner: the config comes from <see cref="ConfigLoader"/>; discovery, sources and sink
/// come from one <see cref="ProbeComposition"/> per configuration (they share a libvirt session), so the runner and the
/// cmdlets build the same probe. The runner disposes each part it was handed; every native resource belongs to one of them.
/// </summary>
internal static class DefaultWiring
{
    public static RunnerWiring Create()
    {
        ProbeComposition? composition = null;
        ProbeComposition For(ProbeConfig config, IProbeLog log)
        {
            if (composition is null || !ReferenceEquals(composition.Config, config))
            {
                composition = ProbeComposition.Create(config, log);
            }

            return composition;
        }

        return new RunnerWiring
        {
            LoadConfig = LoadConfig,
            DescribeSources = ProbeComposition.DescribeSources,
            CheckHost = CheckHost,
            CreateDiscovery = (config, log) => For(config, log).Discovery,
            CreateSources = (config, log) => For(config, log).Sources,
            CreateSink = (config, log) =>
            {
                var parts = For(config, log);
                try
                {
                    return parts.Sink;
                }
                catch
                {
                    // The runner asks for the sink first and owns nothing yet: release what the composition built.
                    parts.Dispose();
                    composition = null;
                    throw;
                }
            },
        };
    }

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
            throw new ConfigLoadFailedException(problems, e);
        }
    }
}
