using System.Management.Automation;
using VmProbe.Config;
using VmProbe.Kvm;
using VmProbe.Prometheus;

namespace VmProbe.Commands;

/// <summary>
/// Read-VmKvmStat: KVM's own statistics of each domain (the runner's kvm source): per domain, or per vCPU with -PerVcpu;
/// histograms as samples whose Histogram property holds readable buckets. The stats fds are duplicated for the call and
/// closed at its end, not cached as the runner's source does: a duplicate pins the VM's kernel object after QEMU exits
/// and a cmdlet has no cycle that would notice, while duplicating costs microseconds per domain (help: NOTES).
/// </summary>
[Cmdlet(VerbsCommunications.Read, "VmKvmStat")]
[OutputType(typeof(VmStatSample))]
public sealed class ReadVmKvmStatCommand : VmProbeCmdlet
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

    /// <summary>One series per vCPU (kvmstats: vcpu) instead of per domain.</summary>
    [Parameter]
    public SwitchParameter PerVcpu { get; set; }

    /// <summary>Only these KVM statistic names (a trailing * matches a prefix), as kvmstatsallow.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Allow { get; set; }

    /// <summary>Also output the host totals (debugfs' top-level files).</summary>
    [Parameter]
    public SwitchParameter IncludeHost { get; set; }

    protected override void BeginProcessing()
    {
        foreach (var pattern in Allow ?? Array.Empty<string>())
        {
            if (!KvmStatsFilter.IsValidPattern(pattern))
            {
                ThrowProbeError(new VmProbeException($"'{pattern}' is not a KVM statistic name ([a-z0-9_], optionally ending in *).",
                    "kvmstatsallow,invalid_name", ProbeErrorKind.InvalidArgument), pattern);
            }
        }
    }

    protected override void ProcessRecord() => SelectDomains(Domain, Uri, _selection);

    protected override void EndProcessing()
    {
        var domains = SelectedDomains(_selection, Uri);
        if (domains.Count == 0)
        {
            return;
        }

        var config = new ProbeConfig { KvmStats = PerVcpu ? KvmStatsMode.Vcpu : KvmStatsMode.Vm, KvmStatsAllow = Allow ?? Array.Empty<string>() };
        var errors = new List<VmProbeException>();
        var metrics = new MetricSet();
        var timestamp = DateTimeOffset.Now;
        try
        {
            using var source = new KvmStatsSource(config, Log);
            source.Collect(new CycleContext(domains, timestamp, Log, CancellationToken.None) { ItemErrors = errors }, metrics);
        }
        catch (VmProbeException ex)
        {
            ThrowProbeError(ex, null);
            return;
        }

        WriteObject(MetricSetFlattener.ToStatSamples(metrics, timestamp, (family, _) =>
            IncludeHost || !family.Name.StartsWith(KvmFamilies.HostPrefix, StringComparison.Ordinal)), enumerateCollection: true);
        WriteProbeErrors(errors);
    }
}
