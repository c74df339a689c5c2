using System.Management.Automation;
using System.Text;
using VmProbe.Prometheus;

namespace VmProbe.Commands;

/// <summary>ConvertTo-PromText: renders VmProbe samples as Prometheus text exposition (one string for the whole pipeline).</summary>
[Cmdlet(VerbsData.ConvertTo, "PromText")]
[OutputType(typeof(string))]
public sealed class ConvertToPromTextCommand : VmProbeCmdlet
{
    private readonly SampleCollector _samples = new();

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [AllowEmptyCollection]
    public PSObject[] InputObject { get; set; } = Array.Empty<PSObject>();

    /// <summary>Prepended to every family name with an underscore.</summary>
    [Parameter]
    [ValidatePattern("^([a-zA-Z_][a-zA-Z0-9_]*)?$")]
    public string Prefix { get; set; } = "vmprobe";

    protected override void ProcessRecord() => _samples.Add(this, InputObject);

    protected override void EndProcessing()
    {
        try
        {
            // One render per call: keys cached for a next render would be thrown away with the writer.
            var writer = new PromTextWriter(Prefix) { CacheSeries = false };
            WriteObject(Encoding.UTF8.GetString(writer.Render(_samples.Metrics, out _).Span));
        }
        catch (Exception ex) when (ex is VmProbeException)
        {
            ThrowProbeError(ex, null);
        }
    }
}
