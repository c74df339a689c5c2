using System.Globalization;
using VmProbe.Config;

namespace VmProbe.Perf;

/// <summary>
/// A cmdlet perf session (Start-VmPerfSession, Read-VmPerfCounter) over the runner's <see cref="PerfMetricsSource"/>:
/// opening prepares the source for a fixed set of domains, reading collects it and flattens the perf families to
/// <see cref="VmPerfSample"/>s (<see cref="MetricSetSamples"/>), so both front ends count the same way and write the same series. Not thread-safe.
/// </summary>
public sealed class PerfSourceSession : IDisposable
{
    private readonly PerfMetricsSource _source;
    private readonly VmDomain[] _domains;
    private readonly IProbeLog _log;
    private readonly MetricSet _metrics = new();

    private PerfSourceSession(PerfMetricsSource source, VmDomain[] domains, bool countsHost, IProbeLog log)
    {
        _source = source;
        _domains = domains;
        CountsHost = countsHost;
        _log = log;
    }

    /// <summary>The domains being counted: those given, less the ones reported in the errors at opening.</summary>
    public IReadOnlyList<VmDomain> CountedDomains => _domains;

    /// <summary>Whether the host is counted.</summary>
    public bool CountsHost { get; }

    /// <summary>True when nothing is counted: every domain failed to open and the host was not asked for.</summary>
    public bool IsEmpty => _domains.Length == 0 && !CountsHost;

    /// <summary>perf file descriptors held now.</summary>
    public int OpenFds => _source.OpenFdCount;

    /// <summary>The configured events and their support (for per-event errors).</summary>
    public IReadOnlyList<PerfEventState> EventStates => _source.EventStates;

    /// <summary>
    /// Opens the counters. A domain without a QEMU process (or, with cgroup attribution, without a cgroup directory) and
    /// every event that counts on no target go to <paramref name="errors"/>; the rest is counted.
    /// </summary>
    public static PerfSourceSession Open(
        IReadOnlyList<PerfEventSpec> events,
        IReadOnlyList<VmDomain> domains,
        bool includeHost,
        PerfAttribution attribution,
        bool perCpu,
        ICollection<VmProbeException> errors,
        IProbeLog log,
        PerfFdBudget? budget = null)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(domains);
        ArgumentNullException.ThrowIfNull(errors);
        var counted = new List<VmDomain>(domains.Count);
        foreach (var domain in domains)
        {
            if (domain.Pid <= 0 || !Directory.Exists("/proc/" + domain.Pid.ToString(CultureInfo.InvariantCulture)))
            {
                errors.Add(ProcessNotFound(domain));
            }
            else if (attribution == PerfAttribution.Cgroup && string.IsNullOrEmpty(domain.PerfCgroupPath))
            {
                errors.Add(new VmProbeException(
                    $"Domain '{domain.Name}' has no cgroup directory perf can count (cgroup v2, or v1 perf_event); cgroup attribution cannot count it.",
                    "domain_cgroup,not_found",
                    ProbeErrorKind.NotFound)
                {
                    RecommendedAction = "Use -Attribution Thread, or check that the domain's QEMU process runs in a libvirt machine cgroup.",
                });
            }
            else
            {
                counted.Add(domain);
            }
        }

        var config = new PerfSourceOptions { Events = events.ToArray(), Attribution = attribution, PerCpu = perCpu };
        var source = new PerfMetricsSource(config, log, budget, countHost: includeHost);
        var session = new PerfSourceSession(source, counted.ToArray(), includeHost, log);
        try
        {
            if (!session.IsEmpty)
            {
                source.Prepare(session.Context(DateTimeOffset.Now));
            }
        }
        catch
        {
            session.Dispose();
            throw;
        }

        foreach (var state in source.EventStates)
        {
            if (!state.Supported && state.Error is { } error)
            {
                errors.Add(error);
            }
        }

        return session;
    }

    /// <summary>
    /// Cumulative counts per target and event (and per vCPU thread with <paramref name="perVcpu"/> in thread attribution):
    /// the source's perf families flattened by <see cref="MetricSetSamples.ToPerfSamples"/>.
    /// </summary>
    public List<VmPerfSample> Read(bool perVcpu, DateTimeOffset timestamp)
    {
        _metrics.Reset();
        _source.Collect(Context(timestamp), _metrics);
        return MetricSetSamples.ToPerfSamples(_metrics, timestamp, includeVcpu: perVcpu);
    }

    /// <summary>Collects the source into <paramref name="metrics"/> as the runner does (every perf family, probe_* included).</summary>
    public void Collect(MetricSet metrics, DateTimeOffset timestamp)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _source.Collect(Context(timestamp), metrics);
    }

    public void Dispose() => _source.Dispose();

    private CycleContext Context(DateTimeOffset timestamp) => new(_domains, timestamp, _log, CancellationToken.None);

    private static VmProbeException ProcessNotFound(VmDomain domain) =>
        new(
            domain.Pid <= 0
                ? $"Domain '{domain.Name}' has no known QEMU process id; its perf counters cannot be opened."
                : $"The QEMU process {domain.Pid} of domain '{domain.Name}' is gone.",
            "domain_process,not_found",
            ProbeErrorKind.NotFound)
        {
            RecommendedAction = "List the running domains again with Get-VmDomain.",
        };
}
