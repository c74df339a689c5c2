using System.Management.Automation;
using VmProbe.Commands.Engine;

namespace VmProbe.Commands;

/// <summary>
/// Export-PromTextFile: collects the whole pipeline and writes it once, atomically (never a half file), as a
/// node_exporter textfile.
/// </summary>
[Cmdlet(VerbsData.Export, "PromTextFile", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(FileInfo))]
public sealed class ExportPromTextFileCommand : VmProbeCmdlet
{
    private readonly SampleCollector _samples = new();

    /// <summary>The .prom file to write (node_exporter's textfile collector reads only *.prom).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [AllowEmptyCollection]
    public PSObject[] InputObject { get; set; } = Array.Empty<PSObject>();

    [Parameter]
    [ValidatePattern("^([a-zA-Z_][a-zA-Z0-9_]*)?$")]
    public string Prefix { get; set; } = "vmprobe";

    /// <summary>Output the written file.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void BeginProcessing()
    {
        if (!Path.EndsWith(".prom", StringComparison.Ordinal))
        {
            WriteWarning($"'{Path}' does not end in .prom; node_exporter's textfile collector will ignore it.");
        }
    }

    protected override void ProcessRecord() => _samples.Add(this, InputObject);

    protected override void EndProcessing()
    {
        var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        if (!ShouldProcess(path, $"Write {_samples.Count} sample(s) in {_samples.Metrics.Families.Count} metric families"))
        {
            return;
        }

        try
        {
            EngineServices.PromText.WriteAtomic(path, _samples.Metrics, Prefix);
            if (PassThru.IsPresent)
            {
                WriteObject(new FileInfo(path));
            }
        }
        catch (Exception ex) when (ex is VmProbeException or NotImplementedException or IOException or UnauthorizedAccessException)
        {
            ThrowProbeError(ex, path);
        }
    }
}
