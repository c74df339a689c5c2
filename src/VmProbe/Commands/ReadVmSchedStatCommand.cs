using System.Management.Automation;
using VmProbe.Commands.Engine;

namespace VmProbe.Commands;

/// <summary>Read-VmSchedStat: run time, wait time and timeslices of each domain's threads, per domain and per vCPU.</summary>
[Cmdlet(VerbsCommunications.Read, "VmSchedStat")]
[OutputType(typeof(VmSchedSample))]
public sealed class ReadVmSchedStatCommand : VmProbeCmdlet
{
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
        IReadOnlyList<VmDomain> domains;
        try
        {
            domains = Domain ?? _resolver.All;
        }
        catch (Exception ex) when (ex is VmProbeException or NotImplementedException)
        {
            ThrowProbeError(ex, Uri);
            return;
        }

        var timestamp = DateTimeOffset.Now;
        foreach (var domain in domains)
        {
            try
            {
                WriteObject(EngineServices.SchedStats.Read(_resolver.Resolve(domain), timestamp), enumerateCollection: true);
            }
            catch (Exception ex) when (IsItemError(ex))
            {
                // The domain may have stopped between listing and reading; the others still count.
                WriteProbeError(ex, domain);
            }
            catch (NotImplementedException ex)
            {
                ThrowProbeError(ex, domain);
            }
        }
    }
}
