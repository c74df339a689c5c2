using VmProbe.Config;

namespace VmProbe.Commands.Engine;

/// <summary><see cref="ConfigLoader"/>; the default file is <see cref="DefaultPath"/>.</summary>
internal sealed class CoreConfigLoader : IConfigLoader
{
    /// <summary>The config file read when no path is given (the runner's default too).</summary>
    public const string DefaultPath = "/etc/vmprobe/config.yaml";

    public ProbeConfig Load(string? path) => ConfigLoader.Load(path ?? DefaultPath).Config;
}
