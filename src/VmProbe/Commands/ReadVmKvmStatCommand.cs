using System.Management.Automation;
using VmProbe.Config;
using VmProbe.Kvm;
using VmProbe.Prometheus;

namespace VmProbe.Commands;

/// <summary>
/// Read-VmKvmStat: KVM's own statistics of each domain (the runner's kvm source): per domain, or per vCPU with -PerVcpu;
/// histograms as samples whose Histogram property holds readable buckets; once or repeatedly (-Continuous). The stats fds
/// are duplicated for the call and closed at its end, not cached between calls as the runner's source does: a duplicate
/// pins the VM's kernel object after QEMU exits and a cmdlet has no cycle that would notice (help: NOTES).
/// </summary>
[Cmdlet(VerbsCommunications.Read, "VmKvmStat")]
[OutputType(typeof(VmStatSample))]
public sealed class ReadVmKvmStatCommand : DomainReaderCommand
{
    /// <summary>Test seam (set by reflection from the Pester tests): a /proc/PID/fd link prefix also taken for a stats fd,
    /// so a helper's memfd holding a fixture blob reads as QEMU's would. Null in production.</summary>
    internal static string? ExtraStatsLinkPrefix;

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
            if (KvmStatsFilter.Check(pattern) is { } problem)
            {
                ThrowProbeError(new VmProbeException($"-Allow: {problem}.", "kvmstatsallow,invalid_name", ProbeErrorKind.InvalidArgument), pattern);
            }
        }
    }

    protected override void ReadDomains(IReadOnlyList<VmDomain> domains)
    {
        var mode = PerVcpu ? KvmStatsMode.Vcpu : KvmStatsMode.Vm;
        var allow = Allow ?? Array.Empty<string>();
        var prefix = ExtraStatsLinkPrefix;
        try
        {
            // One source for the call: its fds and once-only logs last across readings and are closed at the end.
            using var source = prefix is null
                ? new KvmStatsSource(new ProbeConfig { KvmStats = mode, KvmStatsAllow = allow }, Log)
                : new KvmStatsSource(mode, allow, Log, "/", l => KvmStatsFd.IsKernelStatsLink(l) || l.StartsWith(prefix, StringComparison.Ordinal));
            Sample(errors => Read(source, domains, errors));
        }
        catch (VmProbeException ex)
        {
            ThrowProbeError(ex, null);
        }
    }

    private IEnumerable<object> Read(KvmStatsSource source, IReadOnlyList<VmDomain> domains, List<VmProbeException> errors)
    {
        var metrics = new MetricSet();
        var timestamp = DateTimeOffset.Now;
        source.Collect(new CycleContext(domains, timestamp, Log, Sampler.Stopping) { ItemErrors = errors }, metrics);
        return MetricSetFlattener.ToStatSamples(metrics, timestamp, (family, _) =>
            IncludeHost || !family.Name.StartsWith(KvmFamilies.HostPrefix, StringComparison.Ordinal));
    }
}
