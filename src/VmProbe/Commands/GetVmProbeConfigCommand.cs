using System.Management.Automation;
using VmProbe.Config;

namespace VmProbe.Commands;

/// <summary>Get-VmProbeConfig: reads and validates a config file (YAML or the C++ vmprobe's config.yaml).</summary>
[Cmdlet(VerbsCommon.Get, "VmProbeConfig")]
[OutputType(typeof(ProbeConfig))]
public sealed class GetVmProbeConfigCommand : VmProbeCmdlet
{
    /// <summary>The config file; the default location when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    protected override void ProcessRecord()
    {
        var path = Path is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        try
        {
            WriteObject(ConfigLoader.Load(path ?? ConfigLoader.DefaultPath).Config);
        }
        catch (Exception ex) when (ex is VmProbeException or IOException or UnauthorizedAccessException)
        {
            ThrowProbeError(ex, path);
        }
    }
}
