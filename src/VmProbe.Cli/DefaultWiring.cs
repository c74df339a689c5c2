using VmProbe.Config;
using VmProbe.Probe;

namespace VmProbe.Cli;

/// <summary>
/// The production parts of the runner: discovery, sources and sink come from one <see cref="ProbeComposition"/> per
/// configuration (they share a libvirt session), so the runner and the cmdlets build the same probe.
/// The runner disposes each part it was handed; every native resource belongs to one of them.
/// </summary>
internal static class DefaultWiring
{
    public static CliWiring Create()
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

        return new CliWiring
        {
            // WIRE: path => { try { var r = ConfigLoader.Load(path); return new LoadedConfig(r.Config, r.Warnings.Select(w => w.ToString()).ToList()); }
            //                 catch (ConfigException e) { throw new ConfigLoadFailedException(new[] { new ConfigProblem(e.File, e.Line, e.Key, e.Message) }, e); } }
            LoadConfig = path => throw new ConfigLoadFailedException(
                new[] { new ConfigProblem(path, 0, null, "this build has no configuration loader wired in (VmProbe.Config.ConfigLoader)") }),

            DescribeSources = ProbeComposition.DescribeSources,
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
}
