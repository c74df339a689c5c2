using System.Globalization;

namespace VmProbe.Kvm.Exits;

/// <summary>One process's part of a snapshot, by reason name: exits, exits per thread, handling-time histograms.</summary>
internal sealed class ProcessExits
{
    public Dictionary<string, ulong> ByReason { get; } = new(StringComparer.Ordinal);

    public Dictionary<(int Tid, string Reason), ulong> ByThread { get; } = new();

    public Dictionary<string, Log2Histogram> Latency { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, ulong> Userspace { get; } = new(StringComparer.Ordinal);

    public KvmProcessEvents? Events { get; set; }

    /// <summary>Every process of <paramref name="snapshot"/>, by tgid.</summary>
    public static Dictionary<int, ProcessExits> Group(KvmExitSnapshot snapshot)
    {
        var byTgid = new Dictionary<int, ProcessExits>();
        ProcessExits Of(int tgid) => byTgid.TryGetValue(tgid, out var p) ? p : byTgid[tgid] = new ProcessExits();
        foreach (var exit in snapshot.Exits)
        {
            var process = Of(exit.Tgid);
            var reason = KvmExitReasons.Name(exit.Isa, exit.Reason);
            process.ByReason[reason] = process.ByReason.GetValueOrDefault(reason) + exit.Count;
            process.ByThread[(exit.Tid, reason)] = process.ByThread.GetValueOrDefault((exit.Tid, reason)) + exit.Count;
        }

        foreach (var latency in snapshot.Latencies)
        {
            var process = Of(latency.Tgid);
            var reason = KvmExitReasons.Name(latency.Isa, latency.Reason);
            process.Latency[reason] = process.Latency.TryGetValue(reason, out var h) ? h.Add(latency.Histogram) : latency.Histogram;
        }

        foreach (var exit in snapshot.UserspaceExits)
        {
            var process = Of(exit.Tgid);
            var reason = KvmExitReasons.UserspaceName(exit.Reason);
            process.Userspace[reason] = process.Userspace.GetValueOrDefault(reason) + exit.Count;
        }

        foreach (var events in snapshot.Events)
        {
            Of(events.Tgid).Events = events;
        }

        return byTgid;
    }

    /// <summary>All reasons' handling time together.</summary>
    public Log2Histogram AllLatency() => Latency.Values.Aggregate(Log2Histogram.Empty, (all, h) => all.Add(h));

    /// <summary>The reasons that get a histogram of their own: the allowlist, else the <paramref name="topN"/> most frequent.</summary>
    public IEnumerable<string> HistogramReasons(IReadOnlyCollection<string> allow, int topN) =>
        allow.Count > 0
            ? Latency.Keys.Where(allow.Contains)
            : Latency.Keys.OrderByDescending(r => ByReason.GetValueOrDefault(r)).ThenBy(r => r, StringComparer.Ordinal).Take(topN);
}

/// <summary>Turns a <see cref="KvmExitSnapshot"/> into the <see cref="KvmExitFamilies"/> series of the domains and the host.</summary>
internal static class KvmExitsEmitter
{
    public static void Add(MetricSet metrics, KvmExitSnapshot snapshot, IReadOnlyList<VmDomain> domains, KvmExitsOptions options,
        Func<VmDomain, IReadOnlyDictionary<int, int>> vcpuOfThread)
    {
        var byTgid = ProcessExits.Group(snapshot);
        var allow = options.Reasons.ToHashSet(StringComparer.Ordinal);
        foreach (var domain in domains)
        {
            if (domain.Pid > 0 && byTgid.TryGetValue(domain.Pid, out var process))
            {
                var uuid = domain.UuidLabel;
                AddDomain(metrics, process, domain.Name, uuid, options, allow, options.PerVcpu ? vcpuOfThread(domain) : null);
            }
        }

        var host = new Dictionary<string, ulong>(StringComparer.Ordinal);
        var hostLatency = Log2Histogram.Empty;
        foreach (var process in byTgid.Values)
        {
            foreach (var (reason, count) in process.ByReason)
            {
                host[reason] = host.GetValueOrDefault(reason) + count;
            }

            hostLatency = hostLatency.Add(process.AllLatency());
        }

        foreach (var (reason, count) in host.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            metrics.Family(KvmExitFamilies.HostExitsByReason).Add(count, reason);
        }

        if (snapshot.Latencies.Count > 0)
        {
            metrics.Family(KvmExitFamilies.HostExitHandling).AddHistogram(Log2HistogramConversion.ToPrometheus(hostLatency, Log2HistogramConversion.ExitLayout));
        }
    }

    private static void AddDomain(MetricSet metrics, ProcessExits process, string domain, string uuid, KvmExitsOptions options,
        HashSet<string> allow, IReadOnlyDictionary<int, int>? vcpus)
    {
        foreach (var (reason, count) in process.ByReason.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            metrics.Family(KvmExitFamilies.ExitsByReason).Add(count, domain, uuid, reason);
        }

        if (vcpus is not null)
        {
            var perVcpu = new SortedDictionary<(int Vcpu, string Reason), ulong>();
            foreach (var ((tid, reason), count) in process.ByThread)
            {
                if (vcpus.TryGetValue(tid, out var vcpu))
                {
                    perVcpu[(vcpu, reason)] = perVcpu.GetValueOrDefault((vcpu, reason)) + count;
                }
            }

            foreach (var ((vcpu, reason), count) in perVcpu)
            {
                metrics.Family(KvmExitFamilies.VcpuExitsByReason).Add(count, domain, uuid, vcpu.ToString(CultureInfo.InvariantCulture), reason);
            }
        }

        if (process.Latency.Count > 0)
        {
            metrics.Family(KvmExitFamilies.ExitHandling).AddHistogram(Log2HistogramConversion.ToPrometheus(process.AllLatency(), Log2HistogramConversion.ExitLayout), domain, uuid);
            foreach (var reason in process.HistogramReasons(allow, options.TopN).OrderBy(r => r, StringComparer.Ordinal))
            {
                metrics.Family(KvmExitFamilies.ExitHandlingByReason).AddHistogram(
                    Log2HistogramConversion.ToPrometheus(process.Latency[reason], Log2HistogramConversion.ExitLayout), domain, uuid, reason);
            }
        }

        foreach (var (reason, count) in process.Userspace.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            metrics.Family(KvmExitFamilies.UserspaceExits).Add(count, domain, uuid, reason);
        }

        if (process.Events is { } events)
        {
            AddEvents(metrics, events, domain, uuid);
        }
    }

    private static void AddEvents(MetricSet metrics, KvmProcessEvents events, string domain, string uuid)
    {
        metrics.Family(KvmExitFamilies.PageFaults).Add(events.PageFaults, domain, uuid);
        if (events.MmioPageFaults is { } mmio)
        {
            metrics.Family(KvmExitFamilies.MmioPageFaults).Add(mmio, domain, uuid);
        }

        var poll = metrics.Family(KvmExitFamilies.HaltPollWindowChanges);
        poll.Add(events.HaltPollGrow, domain, uuid, "grow");
        poll.Add(events.HaltPollShrink, domain, uuid, "shrink");
        var wakeups = metrics.Family(KvmExitFamilies.Wakeups);
        wakeups.Add(events.WakeupsValid, domain, uuid, "valid");
        wakeups.Add(events.WakeupsInvalid, domain, uuid, "invalid");
        metrics.Family(KvmExitFamilies.HaltTime).AddHistogram(Log2HistogramConversion.ToPrometheus(events.WakeupHaltTime, Log2HistogramConversion.HaltLayout), domain, uuid);
        var irqs = metrics.Family(KvmExitFamilies.IrqInjections);
        irqs.Add(events.InjectedVirq, domain, uuid, "virq");
        irqs.Add(events.MsiSetIrq, domain, uuid, "msi");
        irqs.Add(events.PicSetIrq, domain, uuid, "pic");
        irqs.Add(events.IoapicSetIrq, domain, uuid, "ioapic");
    }
}
