using System.Management.Automation;
using VmProbe.Config;

namespace VmProbe.Commands;

/// <summary>
/// Export-PromTextFile: collects the whole pipeline and writes it once, atomically (never a half file), as a
/// node_exporter textfile. The writing is <see cref="PromTextFileExport"/>'s.
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

    /// <summary>
    /// The runner's config: with <c>naming: legacy</c> the file gets the C++ vmprobe's names, with perf deltas taken
    /// against the previous call made in this runspace with the same config object (pass one config object every call;
    /// the deltas are kept in the module state until Remove-Module or the runspace's end).
    /// </summary>
    [Parameter]
    public ProbeConfig? Config { get; set; }

    /// <summary>Output the written file.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void BeginProcessing()
    {
        if (PromTextFileExport.IgnoredPathWarning(Path) is { } warning)
        {
            WriteWarning(warning);
        }
    }

    protected override void ProcessRecord() => _samples.Add(this, InputObject);

    protected override void EndProcessing()
    {
        var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        if (!ShouldProcess(path, PromTextFileExport.Describe(_samples)))
        {
            return;
        }

        try
        {
            PromTextFileExport.Write(path, _samples.Metrics, Prefix, Config, Log);
            if (PassThru.IsPresent)
            {
                WriteObject(new FileInfo(path));
            }
        }
        catch (Exception ex) when (PromTextFileExport.IsWriteFailure(ex))
        {
            ThrowProbeError(ex, path);
        }
    }
}
