using System.Management.Automation;
using VmProbe.Composition;
using VmProbe.Config;

namespace VmProbe.Commands;

/// <summary>
/// Open-VmProbe: builds the probe a config describes (the runner's composition: discovery, every source of the source
/// registry, the textfile sink) and keeps it open for Invoke-VmProbeCycle. Nothing counts until the first cycle.
/// </summary>
[Cmdlet(VerbsCommon.Open, "VmProbe", DefaultParameterSetName = PathSet)]
[OutputType(typeof(VmProbeSession))]
public sealed class OpenVmProbeCommand : VmProbeCmdlet
{
    private const string PathSet = "Path";
    private const string ConfigSet = "Config";

    /// <summary>The YAML config (or the C++ vmprobe's config.yaml); /etc/vmprobe/config.yaml when omitted.</summary>
    [Parameter(Position = 0, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string? ConfigPath { get; set; }

    /// <summary>A config from Get-VmProbeConfig.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ConfigSet)]
    [ValidateNotNull]
    public ProbeConfig? Config { get; set; }

    protected override void ProcessRecord()
    {
        var config = Config ?? LoadConfig();
        var log = new QueuedProbeLog();
        log.Listen(Log);
        try
        {
            WriteObject(new VmProbeSession(ProbeRun.Start(config, log), config, log));
        }
        catch (Exception ex) when (IsItemError(ex))
        {
            // The endpoint cannot be written, libvirt cannot be loaded: this probe cannot run at all.
            log.Drain(Log);
            ThrowProbeError(ex, config.Endpoint);
        }

        log.Drain(Log);
    }

    private ProbeConfig LoadConfig()
    {
        var path = ConfigPath is null ? ConfigLoader.DefaultPath : GetUnresolvedProviderPathFromPSPath(ConfigPath);
        try
        {
            var loaded = ConfigLoader.Load(path);
            foreach (var warning in loaded.Warnings)
            {
                WriteWarning(warning.ToString());
            }

            return loaded.Config;
        }
        catch (Exception ex) when (IsItemError(ex))
        {
            ThrowProbeError(ex, path);
            throw; // not reached: ThrowProbeError throws
        }
    }
}
