using System.Management.Automation;
using VmProbe.Libvirt;

namespace VmProbe.Commands;

/// <summary>Read-VmDomainStat: libvirt bulk statistics (cpu, balloon, vcpu, net, block) as flat samples, once or repeatedly.</summary>
[Cmdlet(VerbsCommunications.Read, "VmDomainStat")]
[OutputType(typeof(VmStatSample))]
public sealed class ReadVmDomainStatCommand : ContinuousReaderCommand
{
    private readonly List<VmDomain> _domains = new();
    private DomainResolver? _resolver;

    /// <summary>The domains to read; every running domain at -Uri when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true)]
    [VmDomainTransformation]
    [ValidateNotNull]
    public VmDomain[]? Domain { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Uri { get; set; } = DefaultUri;

    protected override void ProcessRecord()
    {
        _resolver ??= new DomainResolver(Uri, Log);
        ResolveDomains(Domain, _resolver, _domains);
    }

    protected override void EndProcessing()
    {
        // One bulk call for everything piped in. Domains given but none found, or an empty pipeline: nothing to read.
        var readAll = !MyInvocation.BoundParameters.ContainsKey(nameof(Domain)) && !MyInvocation.ExpectingInput;
        if (!readAll && _domains.Count == 0)
        {
            return;
        }

        try
        {
            var uuids = readAll ? null : _domains.Select(d => d.Uuid).ToArray();
            Sample(errors => LibvirtStatReader.Read(Uri, uuids, DateTimeOffset.Now, Log, errors));
        }
        catch (Exception ex) when (ex is VmProbeException)
        {
            ThrowProbeError(ex, Uri);
        }
    }

}
