using System.Globalization;
using VmProbe.Config;
using VmProbe.Native;
using VmProbe.Procfs;
using VmProbe.Prometheus;

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
public sealed class PerfMetricsSource : IPreparedSource
{
    public const string SourceName = "perf";

    internal const string EventsHelp = "Perf event count since the probe started counting the target, scaled for multiplexing (raw * time_enabled / time_running).";
    internal const string RatioHelp = "time_running / time_enabled of the perf event: 1 when it was always on the PMU, less when multiplexed.";

    private readonly ProbeConfig config;
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
    private readonly HashSet<DomainKey> refusedLogged = new();
    private readonly List<int> threadIds = new(64);
    private ThreadListingCache? threadListings; // this cycle's shared /proc/PID/task listings
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
    public PerfMetricsSource(ProbeConfig config, IProbeLog log, PerfFdBudget? budget = null, ProcFs? procFs = null, bool countHost = true)
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
        EnsureHost();
        deniedDomains = 0;
        SyncDomains(context);
        ReportDenied();
        ReportUnsupported();
    }

    public void Collect(CycleContext context, MetricSet metrics)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(metrics);
        ObjectDisposedException.ThrowIf(disposed, this);
        EnsureHost();
        deniedDomains = 0;
        SyncDomains(context);
        ReportDenied();
        ReportUnsupported();

        EmitHost(metrics);
        EmitDomains(metrics);

        var supportedFamily = metrics.Family("probe_event_supported", MetricType.Gauge,
            "1 when the configured perf event counts on this host, 0 when the kernel refused it (reason logged once).", "event");
        for (var e = 0; e < events.Length; e++)
        {
            supportedFamily.Add(supported[e] ? 1 : 0, eventLabels[e]);
        }

        metrics.Family("probe_perf_open_fds", MetricType.Gauge, "Perf event file descriptors open in the probe process.")
            .Add(PerfEventHandle.OpenCount);
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
        foreach (var domain in domains.Values)
        {
            domain.Dispose();
        }

        domains.Clear();
        if (ownsProcFs)
        {
            procFs.Dispose();
        }
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
            LogHostFailureOnce($"perf: host counters not opened: {openable.Length} events x {cpuCount} CPUs need {needed} perf fds; "
                + $"{PerfEventHandle.OpenCount} are open, {budget.ReservedFds} kept for other files, RLIMIT_NOFILE is {budget.Limit}");
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

    private void SyncDomains(CycleContext context)
    {
        threadListings = context.Shared?.Get<ThreadListingCache>();
        seenThisCycle.Clear();
        foreach (var domain in context.Domains)
        {
            if (domain.Pid <= 0)
            {
                continue;
            }

            var key = new DomainKey(domain.Uuid, domain.Name, domain.Pid);
            if (!seenThisCycle.Add(key))
            {
                continue;
            }

            if (!domains.TryGetValue(key, out var perf))
            {
                perf = TryOpenDomain(key, domain);
                if (perf is null)
                {
                    continue;
                }

                domains.Add(key, perf);
            }

            perf.Domain = domain;
            if (perf.Threads is not null)
            {
                SyncThreads(perf);
            }
        }

        toDrop.Clear();
        foreach (var key in domains.Keys)
        {
            if (!seenThisCycle.Contains(key))
            {
                toDrop.Add(key);
            }
        }

        foreach (var key in toDrop)
        {
            domains.Remove(key, out var gone);
            gone!.Dispose();
            log.Write(LogLevel.Debug, $"perf: stopped counting domain '{key.Name}' (pid {key.Pid}): it is no longer listed");
        }

        refusedLogged.IntersectWith(seenThisCycle);
    }

    private DomainPerf? TryOpenDomain(DomainKey key, VmDomain domain)
    {
        var domainEvents = DomainEvents(out var map);
        if (domainEvents.Length == 0)
        {
            return null;
        }

        if (config.Attribution == PerfAttribution.Cgroup && string.IsNullOrEmpty(domain.PerfCgroupPath))
        {
            // No cgroup of its own in the hierarchy perf is bound to: counted per thread instead, said once for all domains.
            if (!cgroupFallbackLogged)
            {
                cgroupFallbackLogged = true;
                log.Write(LogLevel.Warning, string.IsNullOrEmpty(domain.CgroupPath)
                    ? $"perf: domain '{domain.Name}' (and any other without one) has no cgroup of its own that perf can count (attribution: cgroup); such domains are counted per thread"
                    : $"perf: domain '{domain.Name}' (and any other alike) is counted per thread: cgroup attribution needs the domain's own cgroup in the hierarchy perf_event is bound to "
                      + $"(v1 perf_event when mounted, else v2), and it has only {domain.CgroupPath}");
            }
            else if (log.IsEnabled(LogLevel.Debug))
            {
                log.Write(LogLevel.Debug, $"perf: domain '{domain.Name}' is counted per thread (no cgroup of its own for perf)");
            }
        }
        else if (config.Attribution == PerfAttribution.Cgroup)
        {

            var needed = PerfFdBudget.Estimate(domainEvents.Length, 1, cpuCount);
            if (!budget.Fits(needed))
            {
                LogRefusedOnce(key, LogLevel.Error, BudgetMessage(domain, needed, $"{domainEvents.Length} events x {cpuCount} CPUs"));
                return null;
            }

            try
            {
                var set = PerfCounterSet.Open(PerfTarget.Cgroup(domain.PerfCgroupPath!), domainEvents);
                if (set.OpenFdCount == 0)
                {
                    // Say why rather than export nothing silently.
                    var why = string.Join("; ", set.Status.Select(s => s.ToString()));
                    set.Dispose();
                    LogRefusedOnce(key, LogLevel.Warning, $"perf: domain '{domain.Name}' is not counted: no event opens on cgroup {domain.PerfCgroupPath}: {why}");
                    return null;
                }

                // Per-cgroup failures say nothing about the event itself (a v1 directory gives ENOENT), so they do not judge events.
                MergeStatus(set.Status, map, judgesEvents: false);
                return new DomainPerf(domain, domainEvents, map, null, set);
            }
            catch (Exception ex) when (ex is VmProbeException or ArgumentException)
            {
                LogRefusedOnce(key, LogLevel.Warning, $"perf: domain '{domain.Name}' is not counted on cgroup {domain.PerfCgroupPath}: {ex.Message}");
                return null;
            }
        }

        if (!ListThreads(domain.Pid))
        {
            return null; // The process is gone; the discovery will drop the domain.
        }

        var threadFds = PerfFdBudget.Estimate(domainEvents.Length, threadIds.Count);
        if (!budget.Fits(threadFds))
        {
            LogRefusedOnce(key, LogLevel.Error, BudgetMessage(domain, threadFds, $"{domainEvents.Length} events x {threadIds.Count} threads"));
            return null;
        }

        var threads = new ThreadPerfSession(domainEvents, budget: budget);
        var perf = new DomainPerf(domain, domainEvents, map, threads, null);
        return perf;
    }

    private string BudgetMessage(VmDomain domain, long needed, string what) =>
        $"perf: domain '{domain.Name}' is not counted: {what} need {needed} perf fds; {PerfEventHandle.OpenCount} are open, "
        + $"{budget.ReservedFds} kept for other files, RLIMIT_NOFILE is {budget.Limit}. Raise the hard open-file limit or count fewer events.";

    private void LogRefusedOnce(DomainKey key, LogLevel level, string message)
    {
        if (refusedLogged.Add(key))
        {
            log.Write(level, message);
        }
    }

    // The cycle's shared listing when there is one (the discovery or the procfs source made it), else a listing of our own.
    private bool ListThreads(int pid) =>
        threadListings?.TryList(procFs, pid, threadIds) ?? procFs.TryListThreads(pid, threadIds);

    private void SyncThreads(DomainPerf perf)
    {
        if (!ListThreads(perf.Domain.Pid))
        {
            return; // Gone: keep the last counts until the domain is no longer listed.
        }

        try
        {
            perf.Threads!.Sync(threadIds);
        }
        catch (PerfFdBudgetExceededException ex)
        {
            if (!perf.BudgetLogged)
            {
                perf.BudgetLogged = true;
                log.Write(LogLevel.Error, $"perf: domain '{perf.Domain.Name}': new threads are not counted: {ex.Message}");
            }
        }
        catch (PerfEventException ex) when (ex.Kind == ProbeErrorKind.PermissionDenied)
        {
            // Not root: every VM fails alike; one summary line (ReportDenied) instead of one line per VM.
            deniedDomains++;
            deniedExample ??= $"domain '{perf.Domain.Name}': {ex.Message} [{ex.ErrorId}]";
            perf.OpenFailureLogged = true;
        }
        catch (PerfEventException ex)
        {
            if (!perf.OpenFailureLogged)
            {
                perf.OpenFailureLogged = true;
                log.Write(LogLevel.Warning, $"perf: domain '{perf.Domain.Name}': some threads are not counted: {ex.Message} [{ex.ErrorId}]");
            }
        }

        var status = perf.Threads!.Status;
        for (var i = 0; i < status.Count; i++)
        {
            if (status[i] is { } s)
            {
                MergeStatus(s, perf.EventMap[i], judgesEvents: true);
            }
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

    private void EmitHost(MetricSet metrics)
    {
        if (host is null)
        {
            return;
        }

        host.Read();
        if (config.PerCpu)
        {
            var counts = metrics.Family("host_perf_events_total", MetricType.Counter, "Host-wide (all tasks) " + EventsHelp, "cpu", "event");
            var ratios = metrics.Family("host_perf_scaling_ratio", MetricType.Gauge, RatioHelp, "cpu", "event");
            for (var slot = 0; slot < hostCpuLabels!.Length; slot++)
            {
                for (var i = 0; i < openable.Length; i++)
                {
                    if (host.Status[i].Supported)
                    {
                        var count = host.GetPerCpu(i, slot);
                        counts.Add(count.Scaled, hostCpuLabels[slot][i]);
                        ratios.Add(count.RunningRatio, hostCpuLabels[slot][i]);
                    }
                }
            }

            return;
        }

        var total = metrics.Family("host_perf_events_total", MetricType.Counter, "Host-wide (all tasks, all CPUs) " + EventsHelp, "event");
        var ratio = metrics.Family("host_perf_scaling_ratio", MetricType.Gauge, RatioHelp, "event");
        for (var i = 0; i < openable.Length; i++)
        {
            if (host.Status[i].Supported)
            {
                var count = host.GetTotal(i);
                var labels = eventLabels[openableToEvent[i]];
                total.Add(count.Scaled, labels);
                ratio.Add(count.RunningRatio, labels);
            }
        }
    }

    private void EmitDomains(MetricSet metrics)
    {
        if (domains.Count == 0)
        {
            return;
        }

        var counts = metrics.Family("domain_perf_events_total", MetricType.Counter, "Domain (all QEMU threads, or its cgroup) " + EventsHelp, "domain", "uuid", "event");
        var ratios = metrics.Family("domain_perf_scaling_ratio", MetricType.Gauge, RatioHelp, "domain", "uuid", "event");
        MetricFamily? vcpuCounts = config.Attribution == PerfAttribution.Thread
            ? metrics.Family("domain_vcpu_perf_events_total", MetricType.Counter, "vCPU thread " + EventsHelp, "domain", "uuid", "vcpu", "event")
            : null;

        foreach (var perf in domains.Values)
        {
            if (perf.Threads is { } threads)
            {
                threads.Read();
                for (var i = 0; i < perf.Events.Length; i++)
                {
                    if (!IsSupportedIn(threads.Status[i]))
                    {
                        continue;
                    }

                    var count = threads.GetTotal(i);
                    counts.Add(count.Scaled, perf.EventLabels[i]);
                    ratios.Add(count.RunningRatio, perf.EventLabels[i]);
                }

                foreach (var vcpu in perf.Domain.Vcpus)
                {
                    if (vcpu.ThreadId <= 0)
                    {
                        continue;
                    }

                    string[][]? vcpuLabels = null;
                    for (var i = 0; i < perf.Events.Length; i++)
                    {
                        if (IsSupportedIn(threads.Status[i]) && threads.TryGetThread(vcpu.ThreadId, i, out var count))
                        {
                            vcpuLabels ??= perf.VcpuLabels(vcpu.Index);
                            vcpuCounts!.Add(count.Scaled, vcpuLabels[i]);
                        }
                    }
                }
            }
            else if (perf.Cgroup is { } cgroup)
            {
                cgroup.Read();
                for (var i = 0; i < perf.Events.Length; i++)
                {
                    if (cgroup.Status[i].Supported)
                    {
                        var count = cgroup.GetTotal(i);
                        counts.Add(count.Scaled, perf.EventLabels[i]);
                        ratios.Add(count.RunningRatio, perf.EventLabels[i]);
                    }
                }
            }
        }
    }

    private static bool IsSupportedIn(PerfEventStatus? status) => status is { Supported: true };

    private readonly record struct DomainKey(Guid Uuid, string Name, int Pid);

    /// <summary>One domain's counters and its cached label arrays (reused every cycle).</summary>
    private sealed class DomainPerf : IDisposable
    {
        private readonly Dictionary<int, string[][]> vcpuLabels = new();
        private readonly string uuid;

        public DomainPerf(VmDomain domain, PerfEventSpec[] events, int[] eventMap, ThreadPerfSession? threads, PerfCounterSet? cgroup)
        {
            Domain = domain;
            Events = events;
            EventMap = eventMap;
            Threads = threads;
            Cgroup = cgroup;
            uuid = domain.Uuid == Guid.Empty ? string.Empty : domain.Uuid.ToString("D");
            EventLabels = Array.ConvertAll(events, e => new[] { domain.Name, uuid, e.CanonicalName });
        }

        /// <summary>The latest description of the domain (vCPU threads may change while the key stays).</summary>
        public VmDomain Domain { get; set; }

        public PerfEventSpec[] Events { get; }

        /// <summary>Index of each of <see cref="Events"/> in the configured list.</summary>
        public int[] EventMap { get; }

        public ThreadPerfSession? Threads { get; }

        public PerfCounterSet? Cgroup { get; }

        public string[][] EventLabels { get; }

        public bool BudgetLogged { get; set; }

        public bool OpenFailureLogged { get; set; }

        public string[][] VcpuLabels(int vcpu)
        {
            if (!vcpuLabels.TryGetValue(vcpu, out var labels))
            {
                var index = vcpu.ToString(CultureInfo.InvariantCulture);
                labels = Array.ConvertAll(Events, e => new[] { Domain.Name, uuid, index, e.CanonicalName });
                vcpuLabels.Add(vcpu, labels);
            }

            return labels;
        }

        public void Dispose()
        {
            Threads?.Dispose();
            Cgroup?.Dispose();
        }
    }
}
