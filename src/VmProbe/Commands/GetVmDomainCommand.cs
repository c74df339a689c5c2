using System.Management.Automation;
using VmProbe.Composition;

namespace VmProbe.Commands;

/// <summary>Get-VmDomain: the KVM domains at a libvirt URI, filtered by name (wildcards) or UUID.</summary>
[Cmdlet(VerbsCommon.Get, "VmDomain")]
[OutputType(typeof(VmDomain))]
public sealed class GetVmDomainCommand : VmProbeCmdlet
{
    private IReadOnlyList<VmDomain>? _domains;

    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DomainNameCompleter))]
    public string[]? Name { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public Guid[]? Uuid { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Uri { get; set; } = DefaultUri;

    /// <summary>Include inactive (defined but not running) domains.</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    protected override void ProcessRecord()
    {
        if (_domains is null)
        {
            try
            {
                _domains = DomainListing.List(Uri, All.IsPresent, Log);
            }
            catch (Exception ex) when (ex is VmProbeException)
            {
                ThrowProbeError(ex, Uri);
                return;
            }
        }

        if (Name is null && Uuid is null)
        {
            WriteObject(_domains, enumerateCollection: true);
            return;
        }

        var patterns = (Name ?? Array.Empty<string>()).Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToArray();
        foreach (var domain in _domains)
        {
            if (patterns.Any(p => p.IsMatch(domain.Name)) || (Uuid?.Contains(domain.Uuid) ?? false))
            {
                WriteObject(domain);
            }
        }

        foreach (var name in Name ?? Array.Empty<string>())
        {
            if (!WildcardPattern.ContainsWildcardCharacters(name) && !_domains.Any(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                WriteError(ErrorRecordFactory.Create(
                    "domain,not_found", ErrorCategory.ObjectNotFound, $"No domain named '{name}' at {Uri}.", name,
                    All.IsPresent ? null : "Add -All to include domains that are not running."));
            }
        }

        foreach (var uuid in Uuid ?? Array.Empty<Guid>())
        {
            if (!_domains.Any(d => d.Uuid == uuid))
            {
                WriteError(ErrorRecordFactory.Create("domain,not_found", ErrorCategory.ObjectNotFound, $"No domain with UUID {uuid} at {Uri}.", uuid));
            }
        }
    }
}
