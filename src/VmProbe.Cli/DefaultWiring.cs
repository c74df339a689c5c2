using VmProbe.Config;
using VmProbe.Probe;

namespace VmProbe.Cli;

/// <summary>
/// The production parts of the runner. Each member is one place to bind a real component:
/// LoadConfig to ConfigLoader.Load, CreateDiscovery/CreateSources to the libvirt, procfs and perf sources,
/// CreateSink to the Prometheus text writer plus the atomic textfile writer.
/// </summary>
internal static class DefaultWiring
{
    public static RunnerWiring Create() => new()
    {
        // WIRE: path => { try { var r = ConfigLoader.Load(path); return new LoadedConfig(r.Config, r.Warnings.Select(w => w.ToString()).ToList()); }
        //                 catch (ConfigException e) { throw new ConfigLoadFailedException(new[] { new ConfigProblem(e.File, e.Line, e.Key, e.Message) }, e); } }
        LoadConfig = path => throw new ConfigLoadFailedException(
            new[] { new ConfigProblem(path, 0, null, "this build has no configuration loader wired in (VmProbe.Config.ConfigLoader)") }),

        // WIRE: the names of the sources CreateSources builds for this config.
        DescribeSources = _ => Array.Empty<string>(),

        // WIRE: LibvirtDomainSource (or the process scan) per config.Discovery and config.Url.
        CreateDiscovery = (_, _) => null,

        // WIRE: HostProcfsSource, the per-domain procfs source, the libvirt source, the perf source (IPreparedSource).
        CreateSources = (_, _) => Array.Empty<IMetricSource>(),

        // WIRE: metrics => TextFileWriter.WriteAtomic(config.Endpoint, PromTextWriter output with config.Prefix).
        CreateSink = (config, _) => throw new NotSupportedException(
            $"this build has no textfile writer wired in; cannot write {config.Endpoint}"),
    };
}
