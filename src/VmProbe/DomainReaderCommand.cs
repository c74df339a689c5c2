using System.Management.Automation;

namespace VmProbe.Commands;

/// <summary>
/// The Read-* cmdlets that read the piped domains (or every running domain at -Uri) once all are in: the -Domain and
/// -Uri parameters, the selection they fill, and the end of input that reads the selected domains, if any, with
/// <see cref="ReadDomains"/>.
/// </summary>
public abstract class DomainReaderCommand : ContinuousReaderCommand
{
    private readonly DomainSelection _selection = new();

    /// <summary>The domains to read; every running domain at -Uri when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true)]
    [VmDomainTransformation]
    [ValidateNotNull]
    public VmDomain[]? Domain { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Uri { get; set; } = DefaultUri;

    protected override void ProcessRecord() => SelectDomains(Domain, Uri, _selection);

    /// <summary>Reads the domains piped or named, else every running one at -Uri (errors written per name that matched nothing).</summary>
    protected sealed override void EndProcessing()
    {
        var domains = SelectedDomains(_selection, Uri);
        if (domains.Count > 0)
        {
            ReadDomains(domains);
        }
    }

    /// <summary>Reads <paramref name="domains"/> (never empty) once or as -Continuous asks.</summary>
    protected abstract void ReadDomains(IReadOnlyList<VmDomain> domains);
}
