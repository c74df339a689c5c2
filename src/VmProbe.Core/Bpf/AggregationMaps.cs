namespace VmProbe.Bpf;

/// <summary>Where the hot path keeps a thread's counts (the same records come out of either).</summary>
public enum BpfCountPath
{
    /// <summary>agg.h's LRU hash keyed by (process, thread, field): one hashed lookup per event; any kernel with eBPF.</summary>
    Hash,

    /// <summary>tstore.h's task-local storage (a slot per field, no hashing), read by an iter/task program (Linux 5.11+).</summary>
    TaskStorage,

    /// <summary>TaskStorage from raw_tp programs, which skip the record copy: only where the tracepoint's arguments carry
    /// the counted field (raw_syscalls; not kvm_exit, whose reason is not an argument).</summary>
    TaskStorageRawTp,
}

/// <summary>
/// The maps of programs/agg.h that every object built on it has (counts, latency, pending, threads, procs), read and
/// forgotten the same way for the KVM tracer and the syscall self-test, plus tstore.h's per-thread blocks when the
/// object runs that path, and the change count that lets a snapshot skip them all. The scratch lists are reused each cycle.
/// </summary>
internal sealed class AggregationMaps : IDisposable
{
    /// <summary>What every object with tstore.h has for that path alone (left out of a Hash load).</summary>
    public static readonly IReadOnlyList<string> TaskStorageItems = new[] { ThreadCounts.IteratorProgram, ThreadCounts.StorageMap, ThreadCounts.DropMap, ThreadCounts.CreatedMap };

    private readonly List<KeyValuePair<AggCountKey, ulong>> _counts = new();
    private readonly List<KeyValuePair<AggHistKey, AggHist>> _hists = new();
    private readonly ThreadCounts? _threads;
    private readonly ChangeCount _changes;

    public AggregationMaps(BpfObject obj, BpfCountPath path)
    {
        Object = obj;
        Path = path;
        Counts = obj.Map("counts");
        Latency = obj.Map("latency");
        _threads = path == BpfCountPath.Hash ? null : ThreadCounts.Attach(obj);
        _changes = new ChangeCount(obj.Map(ChangeCount.MapName));
    }

    public BpfObject Object { get; }

    /// <summary>Walks of the task-storage iterator so far (none until a tracked thread counted).</summary>
    public long ThreadWalks => _threads?.Walks ?? 0;

    public BpfCountPath Path { get; }

    /// <summary>Snapshots that walked the maps (for tests: none while the change count stands still).</summary>
    public long Walks { get; private set; }

    /// <summary>The programs' change count (for tests).</summary>
    public ulong Changes => _changes.Value;

    /// <summary>Whether the change count is read through an mmap, without a syscall (for tests).</summary>
    public bool ChangesMapped => _changes.Mapped;

    /// <summary>
    /// Whether a snapshot must read the maps: false while no program changed them since the last walk (the caller then
    /// reuses its last result). Call once per snapshot, before any read.
    /// </summary>
    public bool MustWalk()
    {
        if (!_changes.MustWalk())
        {
            return false;
        }

        Walks++;
        return true;
    }

    /// <summary>
    /// Loads an object built on agg.h and tstore.h for <paramref name="wanted"/> (null: task storage where the kernel
    /// takes it, else the hash). Only the programs <paramref name="attached"/> names for the path taken are loaded (and
    /// tstore.h's iterator on a task-storage path): the verifier's time goes to those alone, and a hash load also leaves
    /// out the storage map and iterator, so an older kernel loads the rest. <paramref name="programs"/>: every program
    /// of the object but the iterator.
    /// </summary>
    public static BpfObject Load(string name, IReadOnlyDictionary<string, uint> sizes, IProbeLog? log, BpfCountPath? wanted,
        IReadOnlyCollection<string> programs, Func<BpfCountPath, IReadOnlyCollection<string>> attached, out BpfCountPath path)
    {
        var elf = BpfObject.LoadEmbedded(name);
        if (wanted is null or BpfCountPath.TaskStorage or BpfCountPath.TaskStorageRawTp)
        {
            try
            {
                path = wanted ?? BpfCountPath.TaskStorage;
                return BpfObject.Load(name, elf, sizes, log, programs.Except(attached(path)).ToArray());
            }
            catch (BpfException ex) when (wanted is null)
            {
                // A verifier refusal is EACCES, like missing privilege: the hash load tells which it was.
                log?.Write(LogLevel.Info, $"{name}: per-thread task storage did not load ({ex.Message}); counting in the hash map");
            }
        }

        path = BpfCountPath.Hash;
        return BpfObject.Load(name, elf, sizes, log, programs.Except(attached(path)).Concat(TaskStorageItems).ToArray());
    }

    public BpfMap Counts { get; }

    public BpfMap Latency { get; }

    /// <summary>
    /// Map name -> max_entries for <see cref="BpfObject.Load"/>: null keeps the C defaults of agg.h. Without
    /// <paramref name="latency"/> the pair's maps (latency, pending) are never written: one entry each, which also
    /// shortens the load (the kernel preallocates LRU maps). <paramref name="threads"/> bounds the threads with keys
    /// (threads) and, in latency mode, their pending pairs.
    /// </summary>
    public static Dictionary<string, uint> Sizes(uint? counts, uint? histograms, bool latency = true, uint? threads = null)
    {
        var sizes = new Dictionary<string, uint>(StringComparer.Ordinal);
        if (threads is { } t)
        {
            sizes["threads"] = Math.Max(t, 1);
            sizes["pending"] = Math.Max(t, 1);
        }

        if (!latency)
        {
            sizes["latency"] = 1;
            sizes["pending"] = 1;
            histograms = null;
        }

        if (counts is { } c)
        {
            sizes["counts"] = Math.Max(c, 1);
        }

        if (histograms is { } h)
        {
            sizes["latency"] = Math.Max(h, 1);
        }

        return sizes;
    }

    /// <summary>Every count key: (tgid, tid, f1, f2) -> count, from the hash and the threads' blocks. The list is this object's scratch, valid until the next call.</summary>
    public List<KeyValuePair<AggCountKey, ulong>> ReadCounts()
    {
        _counts.Clear();
        Counts.ReadAll(_counts);
        // The blocks' keys never equal the hash's: the hash holds tid 0 (exited threads) and fields without a slot.
        _threads?.ReadInto(_counts);
        return _counts;
    }

    /// <summary>Every histogram of <paramref name="map"/>; scratch, valid until the next call.</summary>
    public List<KeyValuePair<AggHistKey, AggHist>> ReadHistograms(BpfMap map)
    {
        _hists.Clear();
        map.ReadAll(_hists);
        return _hists;
    }

    /// <summary>Deletes a process's keys from the shared maps (the kernel does it at exit; this is for a VM the caller dropped).</summary>
    public int Forget(uint tgid)
    {
        try
        {
            var deleted = Counts.DeleteWhere<AggCountKey, ulong>((k, _) => k.Tgid == tgid);
            deleted += Latency.DeleteWhere<AggHistKey, AggHist>((k, _) => k.Tgid == tgid);
            deleted += Object.Map("pending").DeleteWhere<uint, AggPending>((_, p) => p.Tgid == tgid);
            deleted += Object.Map("threads").DeleteWhere<uint, uint>((_, owner) => owner == tgid);
            Object.Map("procs").DeleteWhere<uint, uint>((k, _) => k == tgid);
            _threads?.Drop(tgid);
            return deleted;
        }
        finally
        {
            _changes.Invalidate(); // user space changed the maps (perhaps partly): the programs did not count that
        }
    }

    public void Dispose()
    {
        _changes.Dispose();
        Object.Dispose();
    }
}
