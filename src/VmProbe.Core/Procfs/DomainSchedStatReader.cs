using System.Globalization;

namespace VmProbe.Procfs;

/// <summary>
/// Read-VmSchedStat over the runner's <see cref="DomainProcfsSource"/>: the same families and labels (scheduler run/wait
/// time and timeslices per domain and vCPU, page faults, guest time, threads) as flat <see cref="VmStatSample"/>s.
/// Keep one reader across calls: the source's retired-thread totals are what keep a domain's counters from going
/// backwards when a QEMU thread exits. Calls are serialized.
/// </summary>
public sealed class DomainSchedStatReader : IDisposable
{
    private readonly DomainProcfsSource _source;
    private readonly object _gate = new();

    public DomainSchedStatReader(string root = "/") => _source = new DomainProcfsSource(root, forgetUnlisted: false);

    /// <summary>Domains whose state the source keeps (until their process is gone).</summary>
    public int TrackedDomainCount
    {
        get
        {
            lock (_gate)
            {
                return _source.TrackedDomainCount;
            }
        }
    }

    /// <summary>
    /// Samples of <paramref name="domains"/>; a domain without a readable QEMU process adds a <see cref="ProcfsException"/>
    /// (NotFound) to <paramref name="errors"/> and the others are still read.
    /// </summary>
    public List<VmStatSample> Read(IReadOnlyList<VmDomain> domains, DateTimeOffset timestamp, ICollection<VmProbeException> errors, IProbeLog log)
    {
        ArgumentNullException.ThrowIfNull(domains);
        ArgumentNullException.ThrowIfNull(errors);
        var metrics = new MetricSet();
        lock (_gate)
        {
            _source.Collect(new CycleContext(domains, timestamp, log, CancellationToken.None), metrics);
        }

        var samples = MetricSetSamples.ToStatSamples(metrics, timestamp);
        var read = new HashSet<(string?, Guid?)>(samples.Select(s => (s.Domain, s.Uuid)));
        foreach (var domain in domains)
        {
            if (!read.Contains((domain.Name, domain.Uuid == Guid.Empty ? null : domain.Uuid)))
            {
                errors.Add(NotFound(domain));
            }
        }

        return samples;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _source.Dispose();
        }
    }

    private static ProcfsException NotFound(VmDomain domain)
    {
        var path = Path.Combine("/proc", domain.Pid.ToString(CultureInfo.InvariantCulture), "task");
        return new ProcfsException(
            domain.Pid <= 0
                ? $"Domain '{domain.Name}' has no known QEMU process id; its scheduler statistics cannot be read."
                : $"The QEMU process {domain.Pid} of domain '{domain.Name}' is gone or unreadable ({path}).",
            path,
            "domain_process,not_found",
            ProbeErrorKind.NotFound);
    }
}
