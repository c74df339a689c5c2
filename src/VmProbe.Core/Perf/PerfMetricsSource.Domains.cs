using System.Globalization;
using VmProbe.Native;
using VmProbe.Procfs;

namespace VmProbe.Perf;

/// <summary>The perf source, part 2: the domains counted each cycle (opened, kept in step with their threads, dropped when no longer listed).</summary>
internal sealed partial class PerfMetricsSource
{
    private void SyncDomains(CycleContext context)
    {
        threadListings = context.Shared?.Get<ThreadListingCache>();
        cpuHints = context.Shared?.Get<ThreadCpuHints>();
        seenThisCycle.Clear();
        ClearPendingOpens(); // a cycle that threw midway left its own
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
                SyncThreads(key, perf);
            }
        }

        OpenNewThreads();
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
    }

    private DomainPerf? TryOpenDomain(DomainKey key, VmDomain domain)
    {
        var domainEvents = DomainEvents(out var map);
        if (domainEvents.Length == 0)
        {
            return null;
        }

        if (config.CountsCgroups && string.IsNullOrEmpty(domain.PerfCgroupPath))
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
        else if (config.CountsCgroups)
        {
            var needed = PerfFdBudget.Estimate(domainEvents.Length, 1, cpuCount);
            if (!budget.Fits(needed))
            {
                RefuseForBudget(key, domain, needed, $"{domainEvents.Length} events x {cpuCount} CPUs");
                return null;
            }

            try
            {
                var set = PerfCounterSet.Open(PerfTarget.Cgroup(domain.PerfCgroupPath!), domainEvents);
                if (set.OpenFdCount == 0)
                {
                    // Say why rather than export nothing silently.
                    var why = string.Join("; ", set.Status.Select(s => s.ToString()));
                    var errno = set.Status.FirstOrDefault(s => s.Errno != 0)?.Errno ?? 0;
                    set.Dispose();
                    RefuseCgroup(key, domain, "no event opens: " + why, errno == 0 ? "perf_event_open" : "perf_event_open," + Errno.Name(errno), PerfEventException.KindOf(errno));
                    return null;
                }

                // Per-cgroup failures say nothing about the event itself (a v1 directory gives ENOENT), so they do not judge events.
                MergeStatus(set.Status, map, judgesEvents: false);
                return new DomainPerf(domain, domainEvents, map, null, set);
            }
            catch (Exception ex) when (ex is VmProbeException or ArgumentException)
            {
                RefuseCgroup(key, domain, ex.Message, (ex as VmProbeException)?.ErrorId ?? "perf_cgroup", (ex as VmProbeException)?.Kind ?? ProbeErrorKind.InvalidArgument);
                return null;
            }
        }

        if (!ListThreads(domain.Pid))
        {
            return null; // The process is gone; the discovery will drop the domain.
        }

        var threadFds = PerfFdBudget.Estimate(domainEvents.Length, threadIds.Count);
        if (!budget.Fits(threadFds + pendingThreadFds))
        {
            RefuseForBudget(key, domain, threadFds, $"{domainEvents.Length} events x {threadIds.Count} threads");
            return null;
        }

        var threads = new ThreadPerfSession(domainEvents, budget: budget);
        var perf = new DomainPerf(domain, domainEvents, map, threads, null);
        return perf;
    }

    // The cycle's shared listing when there is one (the discovery or the procfs source made it), else a listing of our own.
    private bool ListThreads(int pid) =>
        threadListings?.TryList(procFs, pid, threadIds) ?? procFs.TryListThreads(pid, threadIds);

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
            uuid = domain.UuidLabel;
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
