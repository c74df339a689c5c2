using System.Management.Automation;
using VmProbe.Perf;
using VmProbe.Config;

namespace VmProbe.Commands;

/// <summary>Start-VmPerfSession: opens perf counters for domains (and the host) that stay open until Stop-VmPerfSession.</summary>
[Cmdlet(VerbsLifecycle.Start, "VmPerfSession")]
[OutputType(typeof(VmPerfSession))]
public sealed class StartVmPerfSessionCommand : VmProbeCmdlet
{
    private readonly List<VmDomain> _domains = new();
    private DomainResolver? _resolver;

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PerfEventNameCompleter))]
    public string[] Event { get; set; } = Array.Empty<string>();

    [Parameter(ValueFromPipeline = true)]
    [VmDomainTransformation]
    [ValidateNotNull]
    public VmDomain[]? Domain { get; set; }

    /// <summary>Where domain names and UUIDs given to -Domain are looked up; VmDomain objects keep their own.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Uri { get; set; } = DefaultUri;

    /// <summary>Also count the events on the whole host (one group per CPU).</summary>
    [Parameter]
    public SwitchParameter IncludeHost { get; set; }

    [Parameter]
    public PerfAttribution Attribution { get; set; } = PerfAttribution.Thread;

    /// <summary>Host counts per CPU (the runner's <c>percpu: true</c>) rather than summed over all CPUs.</summary>
    [Parameter]
    public SwitchParameter PerCpu { get; set; }

    protected override void ProcessRecord()
    {
        _resolver ??= new DomainResolver(Uri, Log);
        ResolveDomains(Domain, _resolver, _domains);
    }

    protected override void EndProcessing()
    {
        if (!HasPerfTarget(_domains.Count, IncludeHost.IsPresent))
        {
            return;
        }

        try
        {
            var specs = EventResolution.ResolveAtLeastOne(this, Event);

            var errors = new List<VmProbeException>();
            var counters = PerfSourceSession.Open(specs, _domains.ToArray(), IncludeHost.IsPresent, Attribution, PerCpu.IsPresent, errors, Log, ModuleState.PerfBudget);
            WriteProbeErrors(errors);
            if (counters.IsEmpty)
            {
                // Every domain failed (each error written above) and no host: a session counting nothing would hide that,
                // and a loop keeping it would never retry the domain.
                counters.Dispose();
                return;
            }

            WriteObject(new VmPerfSession(counters, specs.Select(s => s.CanonicalName).ToArray()));
        }
        catch (Exception ex) when (ex is VmProbeException)
        {
            ThrowProbeError(ex, null);
        }
    }
}
