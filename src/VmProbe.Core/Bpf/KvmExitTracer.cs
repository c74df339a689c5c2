namespace VmProbe.Bpf;

/// <summary>
/// VM exits by reason and their handling time, and kvm_watcher's events, aggregated in the kernel by
/// programs/kvm_exits.bpf.c and read once a cycle with <see cref="Snapshot"/>. Nothing here knows reason names: the
/// caller maps (Isa, Reason) to them. Dispose detaches and unloads everything.
/// </summary>
public sealed class KvmExitTracer : IDisposable
{
    /// <summary>The programs of counts mode on the hash path (process_exit first: cleanup is in place before any key).</summary>
    public static readonly IReadOnlyList<string> CountPrograms = new[]
    {
        "process_exit", "kvm_exit", "kvm_userspace_exit", "kvm_page_fault", "kvm_mmio_page_fault", "kvm_fast_mmio",
        "kvm_halt_poll_ns", "kvm_vcpu_wakeup", "kvm_inj_virq", "kvm_msi_set_irq", "kvm_pic_set_irq", "kvm_ioapic_set_irq",
    };

    /// <summary>
    /// The programs of latency mode on the hash path: counts mode's with kvm_exit_latency (count and start of the
    /// handling time in one run) in place of kvm_exit, and kvm_entry before it, so no exit waits without its end.
    /// </summary>
    public static readonly IReadOnlyList<string> LatencyPrograms = CountPrograms
        .SelectMany(p => p == "kvm_exit" ? new[] { "kvm_entry", "kvm_exit_latency" } : new[] { p })
        .ToArray();

    /// <summary>Counts mode on the task-storage path: the same, with the per-thread block's exit hook and kvm_exit.</summary>
    public static readonly IReadOnlyList<string> StoreCountPrograms = CountPrograms.Select(ToStore).ToArray();

    /// <summary>Latency mode on the task-storage path (kvm_entry_ts is a raw_tp program: it needs no record).</summary>
    public static readonly IReadOnlyList<string> StoreLatencyPrograms = LatencyPrograms.Select(ToStore).ToArray();

    private readonly AggregationMaps _maps;
    private readonly BpfMap _events;
    private readonly BpfMap _wakeups;
    private readonly List<KeyValuePair<KvmEventKey, ulong>> _eventScratch = new();
    private KvmExitSnapshot? _last;

    private KvmExitTracer(AggregationMaps maps, bool latency)
    {
        _maps = maps;
        _events = maps.Object.Map("events");
        _wakeups = maps.Object.Map("wakeup_ns");
        Latency = latency;
    }

    public bool Latency { get; }

    /// <summary>Where the per-thread exit counts are kept (task storage where the kernel takes it, else the hash).</summary>
    public BpfCountPath Path => _maps.Path;

    /// <summary>The loaded object (tests look at its programs and maps).</summary>
    public BpfObject Object => _maps.Object;

    /// <summary>Snapshots that read the maps (for tests: the others reused the last result).</summary>
    internal long Walks => _maps.Walks;

    /// <summary>
    /// Loads kvm_exits and attaches what the mode needs. <paramref name="maxCounts"/> bounds the per-thread exit counts
    /// (agg.h's default, 1000 VMs x 64 vCPUs x 20 reasons, preallocates ~125 MB of kernel memory: size it to the host).
    /// <paramref name="path"/>: null counts in the vCPU threads' task storage where the kernel takes it, else in the hash.
    /// <paramref name="maxEvents"/> (events: (process, kind, sub) keys), <paramref name="maxWakeups"/> (wakeup_ns: two
    /// histograms a process) and <paramref name="maxThreads"/> (agg.h's threads with keys) default to the C sizes, made
    /// for 1000 VMs x 64 vCPUs: the kernel preallocates these LRU maps at load, ~0.35 µs an entry.
    /// Throws <see cref="BpfUnavailableException"/> when eBPF cannot run here, <see cref="BpfException"/> otherwise.
    /// </summary>
    public static KvmExitTracer Open(bool latency, uint? maxCounts = null, uint? maxHistograms = null, IProbeLog? log = null, BpfCountPath? path = null,
        uint? maxEvents = null, uint? maxWakeups = null, uint? maxThreads = null)
    {
        if (path == BpfCountPath.TaskStorageRawTp)
        {
            throw new ArgumentException("kvm_exit's reason is not a tracepoint argument: no raw_tp path", nameof(path));
        }

        var all = CountPrograms.Concat(LatencyPrograms).Concat(StoreCountPrograms).Concat(StoreLatencyPrograms).Distinct().ToArray();
        var sizes = AggregationMaps.Sizes(maxCounts, maxHistograms, latency, maxThreads);
        if (maxEvents is { } e)
        {
            sizes["events"] = Math.Max(e, 1);
        }

        if (maxWakeups is { } w)
        {
            sizes["wakeup_ns"] = Math.Max(w, 1);
        }

        var obj = AggregationMaps.Load("kvm_exits", sizes, log, path, all,
            p => Programs(latency, p), out var loaded);
        AggregationMaps? maps = null;
        try
        {
            maps = new AggregationMaps(obj, loaded);
            foreach (var program in Programs(latency, loaded))
            {
                obj.Attach(program);
            }

            return new KvmExitTracer(maps, latency);
        }
        catch
        {
            if (maps is null)
            {
                obj.Dispose();
            }
            else
            {
                maps.Dispose(); // the change count's mapping too
            }

            throw;
        }
    }

    /// <summary>
    /// Everything counted so far. While no program changed a map since the last read (the change count stood still) this
    /// is the last snapshot again, the same instance, read without a syscall.
    /// </summary>
    public KvmExitSnapshot Snapshot()
    {
        if (!_maps.MustWalk() && _last is { } last)
        {
            return last;
        }

        _last = null; // a walk that throws leaves nothing to reuse
        var rawCounts = _maps.ReadCounts();
        var exits = new KvmExitCount[rawCounts.Count];
        for (var i = 0; i < exits.Length; i++)
        {
            var (k, v) = rawCounts[i];
            exits[i] = new KvmExitCount((int)k.Tgid, (int)k.Tid, k.F1, k.F2, v);
        }

        var handling = new List<KvmExitHandlingTime>();
        if (Latency)
        {
            foreach (var (k, v) in _maps.ReadHistograms(_maps.Latency))
            {
                handling.Add(new KvmExitHandlingTime((int)k.Tgid, k.Field, BpfHistogram.From(v)));
            }
        }

        var wakeHists = new Dictionary<(uint Tgid, bool Waited), BpfHistogram>();
        foreach (var (k, v) in _maps.ReadHistograms(_wakeups))
        {
            wakeHists[(k.Tgid, k.Field != 0)] = BpfHistogram.From(v);
        }

        _eventScratch.Clear();
        _events.ReadAll(_eventScratch);
        return _last = Build(exits, handling, _eventScratch, wakeHists);
    }

    /// <summary>Drops a process's keys now (the kernel drops them when the process exits).</summary>
    public int Forget(int tgid)
    {
        var t = (uint)tgid;
        return _maps.Forget(t)
            + _events.DeleteWhere<KvmEventKey, ulong>((k, _) => k.Tgid == t)
            + _wakeups.DeleteWhere<AggHistKey, AggHist>((k, _) => k.Tgid == t);
    }

    public void Dispose() => _maps.Dispose();

    /// <summary>What a mode attaches (and so loads) on a path, in attach order.</summary>
    private static IReadOnlyList<string> Programs(bool latency, BpfCountPath path) => (latency, path != BpfCountPath.Hash) switch
    {
        (true, true) => StoreLatencyPrograms,
        (true, false) => LatencyPrograms,
        (false, true) => StoreCountPrograms,
        _ => CountPrograms,
    };

    private static string ToStore(string program) => program is "process_exit" or "kvm_exit" or "kvm_exit_latency" or "kvm_entry" ? program + "_ts" : program;

    private static KvmExitSnapshot Build(KvmExitCount[] exits, List<KvmExitHandlingTime> handling,
        List<KeyValuePair<KvmEventKey, ulong>> events, Dictionary<(uint Tgid, bool Waited), BpfHistogram> wakeHists)
    {
        var userspace = new List<KvmUserspaceExit>();
        var faults = new Dictionary<uint, (ulong Faults, ulong Mmio, ulong Fast)>();
        var haltPoll = new Dictionary<uint, (ulong Grow, ulong Shrink)>();
        var wakeups = new Dictionary<(uint Tgid, bool Waited), (ulong Valid, ulong Invalid)>();
        var irqs = new List<KvmIrqInjection>();
        foreach (var (k, count) in events)
        {
            switch ((KvmEventKind)k.Kind)
            {
                case KvmEventKind.UserspaceExit:
                    var failed = (k.Sub & 0x80000000u) != 0;
                    userspace.Add(new KvmUserspaceExit((int)k.Tgid, failed ? 0 : k.Sub, failed ? (int)(k.Sub & 0x7fffffffu) : 0, count));
                    break;
                case KvmEventKind.PageFault:
                    var f = faults.GetValueOrDefault(k.Tgid);
                    faults[k.Tgid] = (f.Faults + count, f.Mmio, f.Fast);
                    break;
                case KvmEventKind.Mmio:
                    var m = faults.GetValueOrDefault(k.Tgid);
                    faults[k.Tgid] = k.Sub == 1 ? (m.Faults, m.Mmio, m.Fast + count) : (m.Faults, m.Mmio + count, m.Fast);
                    break;
                case KvmEventKind.HaltPoll:
                    var h = haltPoll.GetValueOrDefault(k.Tgid);
                    haltPoll[k.Tgid] = k.Sub == 1 ? (h.Grow + count, h.Shrink) : (h.Grow, h.Shrink + count);
                    break;
                case KvmEventKind.Wakeup:
                    var key = (k.Tgid, (k.Sub & 2) != 0);
                    var w = wakeups.GetValueOrDefault(key);
                    wakeups[key] = (k.Sub & 1) != 0 ? (w.Valid + count, w.Invalid) : (w.Valid, w.Invalid + count);
                    break;
                case KvmEventKind.Irq:
                    irqs.Add(new KvmIrqInjection((int)k.Tgid, (KvmIrqKind)k.Sub, count));
                    break;
            }
        }

        return new KvmExitSnapshot(
            exits,
            handling,
            userspace,
            faults.Select(p => new KvmPageFaults((int)p.Key, p.Value.Faults, p.Value.Mmio, p.Value.Fast)).ToArray(),
            haltPoll.Select(p => new KvmHaltPollChanges((int)p.Key, p.Value.Grow, p.Value.Shrink)).ToArray(),
            wakeups.Select(p => new KvmWakeups((int)p.Key.Tgid, p.Key.Waited, p.Value.Valid, p.Value.Invalid, wakeHists.GetValueOrDefault(p.Key))).ToArray(),
            irqs);
    }
}
