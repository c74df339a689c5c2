using System.Globalization;
using VmProbe.Native;
using VmProbe.Procfs;

namespace VmProbe.Perf;

/// <summary>
/// The perf source: the configured events counted system-wide on the host and per domain (all QEMU threads, or the
/// domain's cgroup), kept in step with the domains of each cycle. Counts are cumulative from the moment a target was opened.
/// </summary>
/// <remarks>
/// Metrics (names without prefix; <c>event</c> is <see cref="PerfEventSpec.CanonicalName"/>, values scaled for multiplexing):
/// <c>host_perf_events_total{event}</c> (<c>{cpu,event}</c> with per-CPU), <c>host_perf_scaling_ratio{event}</c>,
/// <c>domain_perf_events_total{domain,uuid,event}</c>, <c>domain_perf_scaling_ratio{domain,uuid,event}</c>,
/// <c>domain_vcpu_perf_events_total{domain,uuid,vcpu,event}</c> (thread attribution only),
/// <c>probe_event_supported{event}</c>, <c>probe_perf_open_fds</c>.
/// An event the kernel refuses (no PMU, no tracepoint) is logged once at Warning, exported as supported 0, and skipped.
/// </remarks>
internal sealed partial class PerfMetricsSource : IPreparedSource
{
    public const string SourceName = "perf";

    private readonly PerfSourceOptions config;
    private readonly IProbeLog log;
    private readonly PerfFdBudget budget;
    private readonly ProcFs procFs;
    private readonly bool ownsProcFs;

    // Per configured event (config order).
    private readonly PerfEventSpec[] events;
    private readonly string[][] eventLabels;
    private readonly bool[] supported;
    private readonly string?[] unsupportedReason;
    private readonly VmProbeException?[] eventErrors;
    private readonly bool[] reported;
    private readonly bool[] refusedByKernel; // no PMU/tracepoint for it: not worth trying on new targets

    // The events that can be opened (tracepoints resolved), and their index in the configured list.
    private readonly PerfEventSpec[] openable;
    private readonly int[] openableToEvent;

    private readonly Dictionary<DomainKey, DomainPerf> domains = new();
    private readonly HashSet<DomainKey> seenThisCycle = new();
    private readonly List<DomainKey> toDrop = new();
    private readonly List<int> threadIds = new(64);
    private ThreadListingCache? threadListings; // this cycle's shared /proc/PID/task listings
    private ThreadCpuHints? cpuHints; // where the threads the discovery inspected this cycle last ran
    private readonly int cpuCount;
    private readonly bool countHost;

    private PerfCounterSet? host;
    private string[][][]? hostCpuLabels; // [cpu slot][event] -> {cpu, event}
    private bool hostFailureLogged;
    private bool disposed;

    /// <param name="config">Events, attribution (thread or cgroup) and per-CPU host series.</param>
    /// <param name="log">Where unsupported events, refused domains and open failures are reported.</param>
    /// <param name="budget">fd accounting; created (raising RLIMIT_NOFILE's soft limit to the hard one) when null.</param>
    /// <param name="procFs">Where QEMU thread lists are read; /proc when null.</param>
    /// <param name="countHost">False for a source that counts the domains only (a cmdlet perf session without -IncludeHost).</param>
    public PerfMetricsSource(PerfSourceOptions config, IProbeLog log, PerfFdBudget? budget = null, ProcFs? procFs = null, bool countHost = true)
    {
        this.countHost = countHost;
        this.config = config ?? throw new ArgumentNullException(nameof(config));
        this.log = log ?? throw new ArgumentNullException(nameof(log));
        this.budget = budget ?? new PerfFdBudget();
        ownsProcFs = procFs is null;
        this.procFs = procFs ?? new ProcFs();
        cpuCount = CpuList.ReadOnline().Length;

        events = config.Events.ToArray();
        eventLabels = Array.ConvertAll(events, e => new[] { e.CanonicalName });
        supported = new bool[events.Length];
        unsupportedReason = new string?[events.Length];
        eventErrors = new VmProbeException?[events.Length];
        reported = new bool[events.Length];
        refusedByKernel = new bool[events.Length];

        var open = new List<PerfEventSpec>(events.Length);
        var map = new List<int>(events.Length);
        for (var e = 0; e < events.Length; e++)
        {
            var spec = events[e];
            if (spec.Kind == PerfEventKind.Tracepoint && spec.TracepointName is not null && spec.Config == 0)
            {
                try
                {
                    spec = spec with { Config = TracepointResolver.Resolve(spec.TracepointName) };
                }
                catch (TracepointException ex)
                {
                    unsupportedReason[e] = ex.Message;
                    eventErrors[e] = ex;
                    continue;
                }
            }

            open.Add(spec);
            map.Add(e);
        }

        openable = open.ToArray();
        openableToEvent = map.ToArray();
    }

    public string Name => SourceName;

    /// <summary>The fd budget in use (its limit is the raised soft RLIMIT_NOFILE).</summary>
    public PerfFdBudget Budget => budget;

    /// <summary>Domains counted now.</summary>
    public int DomainCount => domains.Count;

    /// <summary>Whether the configured event at <paramref name="eventIndex"/> counts on at least one target so far.</summary>
    public bool IsSupported(int eventIndex) => supported[eventIndex];

    /// <summary>The configured events (config order) with what is known of their support so far.</summary>
    public IReadOnlyList<PerfEventState> EventStates
    {
        get
        {
            var states = new PerfEventState[events.Length];
            for (var e = 0; e < events.Length; e++)
            {
                states[e] = new PerfEventState(events[e], supported[e], supported[e] ? null : eventErrors[e]);
            }

            return states;
        }
    }

    /// <summary>perf file descriptors this source holds now.</summary>
    public int OpenFdCount
    {
        get
        {
            var fds = host?.OpenFdCount ?? 0;
            foreach (var perf in domains.Values)
            {
                fds += perf.Cgroup?.OpenFdCount ?? 0;
                if (perf.Threads is { } threads)
                {
                    foreach (var tid in threads.ThreadIds)
                    {
                        if (threads.TryGetCounterSet(tid, out var set))
                        {
                            fds += set.OpenFdCount;
                        }
                    }
                }
            }

            return fds;
        }
    }

    public void Prepare(CycleContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ObjectDisposedException.ThrowIf(disposed, this);
        BeginRefusals();
        EnsureHost();
        deniedDomains = 0;
        SyncDomains(context);
        ReportRefusals(context);
        ReportDenied();
        ReportUnsupported();
    }

    public void Collect(CycleContext context, MetricSet metrics)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(metrics);
        ObjectDisposedException.ThrowIf(disposed, this);
        BeginRefusals();
        EnsureHost();
        deniedDomains = 0;
        SyncDomains(context);
        ReportRefusals(context);
        ReportDenied();
        ReportUnsupported();

        var activity = context.Shared?.Get<DomainActivityShare>();
        EmitHost(metrics, activity);
        EmitDomains(metrics, activity);

        var supportedFamily = metrics.Family(PerfFamilies.EventSupported);
        for (var e = 0; e < events.Length; e++)
        {
            supportedFamily.Add(supported[e] ? 1 : 0, eventLabels[e]);
        }

        metrics.Family(PerfFamilies.OpenFds)
            .Add(PerfFdBudget.OpenPerfFds);
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        host?.Dispose();
        host = null;
        var failures = CloseDomains();
        domains.Clear();
        if (ownsProcFs)
        {
            procFs.Dispose();
        }

        if (failures.Count > 0)
        {
            throw new AggregateException("Closing some domains' perf counters failed.", failures);
        }
    }

    // Thousands of counter fds close faster in parts side by side (the kernel's work per close is CPU); a few domains
    // make one part, closed here. Every domain is closed whatever another one threw.
    private List<Exception> CloseDomains()
    {
        var all = domains.Values.ToList();
        var parts = Math.Clamp(Math.Min(Environment.ProcessorCount, all.Count / 16), 1, 4);
        var chunks = Enumerable.Range(0, parts)
            .Select(p => (IDisposable)new DisposeAction(() => CloseEach(all.Where((_, i) => i % parts == p))))
            .ToList();
        return ConcurrentDisposal.DisposeAll(chunks)
            .SelectMany(f => f.Error is AggregateException each ? each.InnerExceptions : (IEnumerable<Exception>)new[] { f.Error })
            .ToList();
    }

    private static void CloseEach(IEnumerable<DomainPerf> chunk)
    {
        List<Exception>? failures = null;
        foreach (var domain in chunk)
        {
            try
            {
                domain.Dispose();
            }
            catch (Exception error)
            {
                (failures ??= new()).Add(error);
            }
        }

        if (failures is not null)
        {
            throw new AggregateException(failures);
        }
    }

    private sealed class DisposeAction(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }

    private void EnsureHost()
    {
        if (host is not null || openable.Length == 0 || !countHost)
        {
            return;
        }

        var needed = PerfFdBudget.Estimate(openable.Length, 1, cpuCount);
        if (!budget.Fits(needed))
        {
            RefuseHost(needed, $"{openable.Length} events x {cpuCount} CPUs");
            return;
        }

        try
        {
            host = PerfCounterSet.Open(PerfTarget.Host, openable);
        }
        catch (VmProbeException ex)
        {
            LogHostFailureOnce($"perf: host counters not opened: {ex.Message} [{ex.ErrorId}]");
            return;
        }

        MergeStatus(host.Status, openableToEvent, judgesEvents: true);
        var cpus = host.Cpus;
        hostCpuLabels = new string[cpus.Count][][];
        for (var slot = 0; slot < cpus.Count; slot++)
        {
            var cpu = cpus[slot].ToString(CultureInfo.InvariantCulture);
            hostCpuLabels[slot] = Array.ConvertAll(openable, spec => new[] { cpu, spec.CanonicalName });
        }
    }

    private bool cgroupFallbackLogged;
    private int deniedDomains;
    private string? deniedExample;
    private bool deniedReported;

    private void ReportDenied()
    {
        if (deniedDomains > 0 && !deniedReported)
        {
            deniedReported = true;
            log.Write(LogLevel.Warning,
                $"perf: threads of {deniedDomains} domain(s) cannot be counted: permission denied (run vmprobe as root, or lower kernel.perf_event_paranoid). First: {deniedExample}");
        }
    }

    private void LogHostFailureOnce(string message)
    {
        if (!hostFailureLogged)
        {
            hostFailureLogged = true;
            log.Write(LogLevel.Error, message);
        }
    }

    /// <summary>The events a newly opened domain gets: openable ones the kernel has not refused everywhere already.</summary>
    private PerfEventSpec[] DomainEvents(out int[] map)
    {
        var list = new List<PerfEventSpec>(openable.Length);
        var indexes = new List<int>(openable.Length);
        for (var i = 0; i < openable.Length; i++)
        {
            var e = openableToEvent[i];
            if (refusedByKernel[e] && !supported[e])
            {
                continue;
            }

            list.Add(openable[i]);
            indexes.Add(e);
        }

        map = indexes.ToArray();
        return list.ToArray();
    }

    private void MergeStatus(IReadOnlyList<PerfEventStatus> status, int[] map, bool judgesEvents)
    {
        for (var i = 0; i < status.Count; i++)
        {
            MergeStatus(status[i], map[i], judgesEvents);
        }
    }

    private void MergeStatus(PerfEventStatus status, int e, bool judgesEvents)
    {
        if (status.Supported)
        {
            supported[e] = true;
            return;
        }

        if (!judgesEvents)
        {
            return;
        }

        unsupportedReason[e] ??= $"{status.Reason} [{status.ErrorId}]";
        eventErrors[e] ??= status.Errno != 0
            ? WithAction(PerfEventException.FromErrno("perf_event_open", status.Errno, events[e].CanonicalName, null))
            : new PerfEventNotSupportedException(
                $"Perf event '{events[e].CanonicalName}' cannot be counted on this host: {status.Reason}", "perf_event_open", Errno.ENOENT, events[e].CanonicalName, null)
            {
                RecommendedAction = "Get-VmPerfEvent -Supported lists the events this host can count.",
            };
        if (status.Errno is Errno.ENOENT or Errno.EOPNOTSUPP or Errno.ENODEV)
        {
            refusedByKernel[e] = true;
        }
    }

    private static PerfEventException WithAction(PerfEventException error) =>
        error.RecommendedAction is null && error is PerfEventNotSupportedException
            ? new PerfEventNotSupportedException(error.Message, "perf_event_open", error.Errno, error.EventName, error.Target)
            {
                RecommendedAction = "Get-VmPerfEvent -Supported lists the events this host can count.",
            }
            : error;

    private void ReportUnsupported()
    {
        for (var e = 0; e < events.Length; e++)
        {
            if (!reported[e] && !supported[e] && unsupportedReason[e] is { } reason)
            {
                reported[e] = true;
                log.Write(LogLevel.Warning, $"perf: event '{events[e].CanonicalName}' is skipped: {reason}");
            }
        }
    }
}
