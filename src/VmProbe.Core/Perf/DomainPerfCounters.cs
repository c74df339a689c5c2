using VmProbe.Config;
using VmProbe.Probe;
using VmProbe.Procfs;

namespace VmProbe.Perf;

/// <summary>
/// Perf counters of a fixed set of domains (and optionally the host) that stay open until disposed, for the cmdlets'
/// perf sessions. Thread attribution counts every thread of each domain's QEMU process (threads that appear later
/// are added, exited ones keep their counts) and can split by vCPU thread; cgroup attribution counts the domain's
/// cgroup on every CPU. Reads are cumulative since the counters opened. Not thread-safe.
/// </summary>
public sealed class DomainPerfCounters : IDisposable
{
    private readonly PerfEventSpec[] _events;
    private readonly bool[] _supported;
    private readonly List<DomainCounters> _domains = new();
    private readonly ProcFs _proc;
    private readonly List<int> _tids = new(64);
    private PerfCounterSet? _host;

    private DomainPerfCounters(PerfEventSpec[] events, string root)
    {
        _events = events;
        _supported = new bool[events.Length];
        _proc = new ProcFs(root);
    }

    /// <summary>The events counted: the ones asked for, tracepoints resolved, minus those that could not be resolved.</summary>
    public IReadOnlyList<PerfEventSpec> Events => _events;

    /// <summary>perf file descriptors held now.</summary>
    public int OpenFds
    {
        get
        {
            var fds = _host?.OpenFdCount ?? 0;
            foreach (var domain in _domains)
            {
                fds += domain.OpenFds;
            }

            return fds;
        }
    }

    /// <summary>
    /// Opens the counters. Per-item failures (a tracepoint that does not resolve, an event no target supports, a domain
    /// whose process is gone, the host refusing) go to <paramref name="errors"/>; the rest is counted.
    /// </summary>
    public static DomainPerfCounters Open(
        IReadOnlyList<PerfEventSpec> events,
        IReadOnlyList<VmDomain> domains,
        bool includeHost,
        PerfAttribution attribution,
        ICollection<VmProbeException> errors,
        IProbeLog log,
        PerfFdBudget? budget = null,
        string root = "/")
    {
        var resolved = new List<PerfEventSpec>(events.Count);
        foreach (var spec in events)
        {
            try
            {
                resolved.Add(PerfEventSupport.ResolveTracepoint(spec));
            }
            catch (TracepointException ex)
            {
                errors.Add(ex);
            }
        }

        var counters = new DomainPerfCounters(resolved.ToArray(), root);
        if (counters._events.Length == 0)
        {
            return counters;
        }

        try
        {
            counters.OpenTargets(domains, includeHost, attribution, errors, log, budget);
        }
        catch
        {
            counters.Dispose();
            throw;
        }

        return counters;
    }

    /// <summary>Cumulative counts per target and event (and per vCPU thread with <paramref name="perVcpu"/> in thread attribution).</summary>
    public List<VmPerfSample> Read(bool perVcpu, DateTimeOffset timestamp, ICollection<VmProbeException> errors)
    {
        var samples = new List<VmPerfSample>();
        if (_host is not null)
        {
            if (TryRead(_host, "host", errors))
            {
                for (var e = 0; e < _events.Length; e++)
                {
                    if (_host.Status[e].Supported)
                    {
                        samples.Add(Sample(VmSampleScope.Host, null, e, _host.GetTotal(e), timestamp));
                    }
                }
            }
        }

        foreach (var domain in _domains)
        {
            if (domain.Threads is { } threads)
            {
                // New threads (hot-plugged vCPUs, I/O workers) join; a vanished process keeps its last counts.
                _tids.Clear();
                if (domain.Domain.Pid > 0)
                {
                    _proc.TryListThreads(domain.Domain.Pid, _tids);
                }

                try
                {
                    threads.Sync(_tids);
                }
                catch (VmProbeException ex)
                {
                    errors.Add(ex);
                }

                threads.Read();
                for (var e = 0; e < _events.Length; e++)
                {
                    if (threads.Status[e] is not { Supported: true })
                    {
                        continue;
                    }

                    samples.Add(Sample(VmSampleScope.Domain, domain.Domain, e, threads.GetTotal(e), timestamp));
                    if (!perVcpu)
                    {
                        continue;
                    }

                    foreach (var vcpu in domain.Domain.Vcpus)
                    {
                        if (vcpu.ThreadId > 0 && threads.TryGetThread(vcpu.ThreadId, e, out var count))
                        {
                            samples.Add(Sample(VmSampleScope.Vcpu, domain.Domain, e, count, timestamp, vcpu.Index));
                        }
                    }
                }
            }
            else if (domain.Cgroup is { } cgroup && TryRead(cgroup, domain.Domain.Name, errors))
            {
                for (var e = 0; e < _events.Length; e++)
                {
                    if (cgroup.Status[e].Supported)
                    {
                        samples.Add(Sample(VmSampleScope.Domain, domain.Domain, e, cgroup.GetTotal(e), timestamp));
                    }
                }
            }
        }

        return samples;
    }

    public void Dispose()
    {
        _host?.Dispose();
        _host = null;
        foreach (var domain in _domains)
        {
            domain.Dispose();
        }

        _domains.Clear();
        _proc.Dispose();
    }

    private void OpenTargets(IReadOnlyList<VmDomain> domains, bool includeHost, PerfAttribution attribution, ICollection<VmProbeException> errors, IProbeLog log, PerfFdBudget? budget)
    {
        var firstFailure = new PerfEventStatus?[_events.Length];
        if (includeHost)
        {
            try
            {
                budget?.EnsureFits(PerfFdBudget.Estimate(_events.Length, 1, CpuList.ReadOnline().Length), "host perf counters");
                _host = PerfCounterSet.Open(PerfTarget.Host, _events);
                Note(_host.Status, firstFailure);
            }
            catch (VmProbeException ex)
            {
                errors.Add(ex);
            }
        }

        foreach (var domain in domains)
        {
            var opened = attribution == PerfAttribution.Cgroup
                ? OpenCgroup(domain, errors, budget)
                : OpenThreads(domain, errors, budget);
            if (opened is null)
            {
                continue;
            }

            _domains.Add(opened);
            if (opened.Threads is not null)
            {
                Note(opened.Threads.Status, firstFailure);
            }
            else if (opened.Cgroup is not null)
            {
                Note(opened.Cgroup.Status, firstFailure);
            }

            if (log.IsEnabled(LogLevel.Debug))
            {
                log.Write(LogLevel.Debug, $"perf: domain '{domain.Name}': {opened.OpenFds} fd(s) open ({attribution} attribution).");
            }
        }

        for (var e = 0; e < _events.Length; e++)
        {
            if (!_supported[e] && firstFailure[e] is { } failure)
            {
                errors.Add(new PerfEventNotSupportedException(
                    $"Perf event '{_events[e].CanonicalName}' cannot be counted on this host: {failure.ErrnoName ?? "unsupported"}: {failure.Reason}",
                    "perf_event_open",
                    failure.Errno,
                    _events[e].CanonicalName,
                    null)
                {
                    RecommendedAction = "Get-VmPerfEvent -Supported lists the events this host can count.",
                });
            }
        }
    }

    private void Note(IReadOnlyList<PerfEventStatus?> statuses, PerfEventStatus?[] firstFailure)
    {
        for (var e = 0; e < _events.Length; e++)
        {
            if (statuses[e] is { Supported: true })
            {
                _supported[e] = true;
            }
            else if (statuses[e] is { } failed)
            {
                firstFailure[e] ??= failed;
            }
        }
    }

    private DomainCounters? OpenThreads(VmDomain domain, ICollection<VmProbeException> errors, PerfFdBudget? budget)
    {
        _tids.Clear();
        if (domain.Pid <= 0 || !_proc.TryListThreads(domain.Pid, _tids) || _tids.Count == 0)
        {
            errors.Add(ProcessNotFound(domain));
            return null;
        }

        var threads = new ThreadPerfSession(_events, budget: budget);
        try
        {
            threads.Sync(_tids);
        }
        catch (VmProbeException ex)
        {
            threads.Dispose();
            errors.Add(ex);
            return null;
        }

        return new DomainCounters(domain) { Threads = threads };
    }

    private DomainCounters? OpenCgroup(VmDomain domain, ICollection<VmProbeException> errors, PerfFdBudget? budget)
    {
        if (string.IsNullOrEmpty(domain.CgroupPath))
        {
            errors.Add(new VmProbeException(
                $"Domain '{domain.Name}' has no known cgroup directory; cgroup attribution cannot count it.",
                "domain_cgroup,not_found",
                ProbeErrorKind.NotFound)
            {
                RecommendedAction = "Use -Attribution Thread, or check that the domain's QEMU process runs in a libvirt machine cgroup.",
            });
            return null;
        }

        try
        {
            budget?.EnsureFits(PerfFdBudget.Estimate(_events.Length, 1, CpuList.ReadOnline().Length), $"perf counters of domain '{domain.Name}'");
            return new DomainCounters(domain) { Cgroup = PerfCounterSet.Open(PerfTarget.Cgroup(domain.CgroupPath), _events) };
        }
        catch (VmProbeException ex)
        {
            errors.Add(ex);
            return null;
        }
    }

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

    private static bool TryRead(PerfCounterSet set, string what, ICollection<VmProbeException> errors)
    {
        try
        {
            set.Read();
            return true;
        }
        catch (PerfEventException ex)
        {
            errors.Add(ex);
            return false;
        }
    }

    private VmPerfSample Sample(VmSampleScope scope, VmDomain? domain, int eventIndex, PerfCount count, DateTimeOffset timestamp, int? vcpu = null) => new()
    {
        Scope = scope,
        Domain = domain?.Name,
        Uuid = domain is null || domain.Uuid == Guid.Empty ? null : domain.Uuid,
        Vcpu = vcpu,
        Event = _events[eventIndex].CanonicalName,
        Value = count.Scaled,
        ScalingRatio = count.RunningRatio,
        Timestamp = timestamp,
    };

    private sealed class DomainCounters : IDisposable
    {
        public DomainCounters(VmDomain domain) => Domain = domain;

        public VmDomain Domain { get; }

        public ThreadPerfSession? Threads { get; init; }

        public PerfCounterSet? Cgroup { get; init; }

        public int OpenFds
        {
            get
            {
                var fds = Cgroup?.OpenFdCount ?? 0;
                if (Threads is not null)
                {
                    foreach (var tid in Threads.ThreadIds)
                    {
                        if (Threads.TryGetCounterSet(tid, out var set))
                        {
                            fds += set.OpenFdCount;
                        }
                    }
                }

                return fds;
            }
        }

        public void Dispose()
        {
            Threads?.Dispose();
            Cgroup?.Dispose();
        }
    }
}
