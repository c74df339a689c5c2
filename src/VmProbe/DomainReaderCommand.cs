using System.Management.Automation;

namespace VmProbe.Commands;

/// <summary>
/// The Read-* cmdlets that read the piped domains (or every running domain at -Uri) once all are in: the -Domain and
/// -Uri parameters and the selection they fill. A cmdlet overrides EndProcessing and reads <see cref="Selected"/>.
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

    /// <summary>The domains piped or named, else every running one at -Uri (errors written per name that matched nothing).</summary>
    private protected IReadOnlyList<VmDomain> Selected() => SelectedDomains(_selection, Uri);
}
