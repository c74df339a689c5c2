using VmProbe.Bpf;

namespace VmProbe.Kvm.Exits;

/// <summary>
/// The eBPF exit tracer (Bpf/KvmExitTracer, aggregating in kernel maps) seen as an <see cref="IKvmExitTracer"/>: it traces
/// every process, so <see cref="Track"/> has nothing to do, and its records become the source's plain ones.
/// </summary>
internal sealed class BpfExitTracer : IKvmExitTracer
{
    /// <summary>Per-thread exit counts kept in the kernel: 2,000 vCPU threads x 32 reasons. LRU maps preallocate, so this
    /// bounds the kernel memory too (~7 MB); an evicted key is a thread not seen for longest.</summary>
    internal const uint MaxCounts = 65_536;

    /// <summary>Handling-time histograms, per (process, reason): 256 VMs x 32 reasons (~2.5 MB).</summary>
    internal const uint MaxHistograms = 8_192;

    /// <summary>The other KVM events, per (process, kind, sub): 512 VMs x 32 pairs (kvm_exits.bpf.c's 65,536 is 1000
    /// VMs x 64; each preallocated entry costs load time: 65,536 took 20-60 ms).</summary>
    internal const uint MaxEvents = 16_384;

    /// <summary>kvm_vcpu_wakeup histograms, per (process, waited): 512 VMs x 2.</summary>
    internal const uint MaxWakeups = 1_024;

    /// <summary>Threads with keys in the counts hash: the 2,000 vCPU threads of <see cref="MaxCounts"/>, twice (an
    /// evicted thread's keys are only not folded into tid 0 at its exit; they still count for its process).</summary>
    internal const uint MaxThreads = 4_096;

    private readonly KvmExitTracer _tracer;
    private Bpf.KvmExitSnapshot? _lastRaw;
    private KvmExitSnapshot _last = KvmExitSnapshot.Empty;

    private BpfExitTracer(KvmExitTracer tracer) => _tracer = tracer;

    public KvmExitTracerMode Mode => _tracer.Latency ? KvmExitTracerMode.BpfLatency : KvmExitTracerMode.BpfCounts;

    public string Description => (_tracer.Latency
        ? "eBPF on kvm:kvm_exit and kvm:kvm_entry: exits by reason, handling time, and the other KVM events"
        : "eBPF on kvm:kvm_exit: exits by reason and the other KVM events")
        + (_tracer.Path == BpfCountPath.Hash ? "; counted in a hash map (no task storage here)" : "; counted in each vCPU thread's task storage");

    /// <summary>Loads and attaches the programs the mode needs; a host where eBPF cannot run is "unavailable", so the
    /// source falls back to perf-filter.</summary>
    public static IKvmExitTracer Open(KvmExitsOptions options, IProbeLog log)
    {
        try
        {
            return new BpfExitTracer(KvmExitTracer.Open(options.Mode == KvmExitsMode.Latency, MaxCounts, MaxHistograms, log,
                maxEvents: MaxEvents, maxWakeups: MaxWakeups, maxThreads: MaxThreads));
        }
        catch (BpfUnavailableException ex)
        {
            throw new KvmExitTracerUnavailableException("bpf not available: " + ex.Message, "kvmexits,bpf,unavailable", ex);
        }
        catch (BpfException ex)
        {
            throw new KvmExitTracerUnavailableException("bpf programs did not load: " + ex.Message, "kvmexits,bpf,load", ex);
        }
    }

    public bool TracksThreads => false;

    public void Track(int tgid, IReadOnlyCollection<int> vcpuThreadIds)
    {
    }

    public void Forget(int tgid) => _tracer.Forget(tgid);

    public void Dispose() => _tracer.Dispose();

    /// <summary>The tracer hands out its last snapshot again while nothing changed: so does this, converted once.</summary>
    public KvmExitSnapshot Snapshot()
    {
        var raw = _tracer.Snapshot();
        if (!ReferenceEquals(raw, _lastRaw))
        {
            _last = Convert(raw);
            _lastRaw = raw;
        }

        return _last;
    }

    internal static KvmExitSnapshot Convert(Bpf.KvmExitSnapshot raw)
    {
        var exits = new KvmExitCount[raw.Exits.Count];
        var isaOf = new Dictionary<int, KvmExitIsa>();
        for (var i = 0; i < exits.Length; i++)
        {
            var e = raw.Exits[i];
            var isa = e.Isa is 1 or 2 ? (KvmExitIsa)e.Isa : KvmExitIsa.Unknown;
            exits[i] = new KvmExitCount(e.Tgid, e.Tid, isa, e.Reason, e.Count);
            isaOf.TryAdd(e.Tgid, isa);
        }

        // The handling-time map is keyed by (process, reason) only: a process's exits all come from one ISA.
        var latencies = raw.HandlingTimes
            .Select(h => new KvmExitLatency(h.Tgid, isaOf.GetValueOrDefault(h.Tgid, KvmExitReasons.HostIsa()), h.Reason, ToLog2(h.Histogram)))
            .ToArray();
        var userspace = raw.UserspaceExits.Where(u => u.Errno == 0)
            .Select(u => new KvmUserspaceExitCount(u.Tgid, u.Reason, u.Count)).ToArray();
        return new KvmExitSnapshot(exits, latencies, userspace, ProcessEvents(raw));
    }

    private static KvmProcessEvents[] ProcessEvents(Bpf.KvmExitSnapshot raw)
    {
        var events = new Dictionary<int, KvmProcessEvents>();
        KvmProcessEvents Of(int tgid) => events.TryGetValue(tgid, out var e) ? e : new KvmProcessEvents(tgid);
        foreach (var f in raw.PageFaults)
        {
            events[f.Tgid] = Of(f.Tgid) with { PageFaults = f.Faults, MmioPageFaults = f.MmioFaults + f.FastMmio };
        }

        foreach (var h in raw.HaltPoll)
        {
            events[h.Tgid] = Of(h.Tgid) with { HaltPollGrow = h.Grow, HaltPollShrink = h.Shrink };
        }

        foreach (var w in raw.Wakeups)
        {
            var e = Of(w.Tgid);
            events[w.Tgid] = e with
            {
                WakeupsValid = e.WakeupsValid + w.Valid,
                WakeupsInvalid = e.WakeupsInvalid + w.Invalid,
                WakeupHaltTime = w.Histogram is null ? e.WakeupHaltTime : e.WakeupHaltTime.Add(ToLog2(w.Histogram)),
            };
        }

        foreach (var irq in raw.IrqInjections)
        {
            var e = Of(irq.Tgid);
            events[irq.Tgid] = irq.Kind switch
            {
                KvmIrqKind.Virq => e with { InjectedVirq = e.InjectedVirq + irq.Count },
                KvmIrqKind.Msi => e with { MsiSetIrq = e.MsiSetIrq + irq.Count },
                KvmIrqKind.Pic => e with { PicSetIrq = e.PicSetIrq + irq.Count },
                _ => e with { IoapicSetIrq = e.IoapicSetIrq + irq.Count },
            };
        }

        return events.Values.ToArray();
    }

    private static Log2Histogram ToLog2(BpfHistogram histogram) => new(histogram.Buckets, histogram.SumNs);
}
