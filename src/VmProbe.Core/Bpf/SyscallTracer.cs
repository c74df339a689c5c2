namespace VmProbe.Bpf;

/// <summary>Syscalls a thread entered: (process, thread, syscall number) -> count. Tid 0: threads that have exited.</summary>
public sealed record SyscallCount(int Tgid, int Tid, int Id, ulong Count);

/// <summary>Enter -> exit time of a syscall per (process, syscall number).</summary>
public sealed record SyscallLatency(int Tgid, int Id, BpfHistogram Histogram);

/// <summary>One read of the self-test maps.</summary>
public sealed record SyscallSnapshot(IReadOnlyList<SyscallCount> Counts, IReadOnlyList<SyscallLatency> Latencies);

/// <summary>
/// The self-test of the aggregation the KVM tracer uses (programs/selftest.bpf.c, built from the same agg.h, loaded by
/// the same <see cref="BpfObject"/>): raw_syscalls enter/exit counted per thread, paired into latency histograms, cleaned
/// up at thread and process exit. It proves the in-kernel path on hosts where KVM's tracepoints never fire.
/// </summary>
public sealed class SyscallTracer : IDisposable
{
    private readonly AggregationMaps _maps;
    private SyscallSnapshot? _last;

    private SyscallTracer(AggregationMaps maps) => _maps = maps;

    /// <summary>The loaded object (tests look at its programs and maps).</summary>
    public BpfObject Object => _maps.Object;

    /// <summary>The programs of each task-storage path: (counts, latency start, latency end, exit hook).</summary>
    private static readonly IReadOnlyDictionary<BpfCountPath, string[]> PathPrograms = new Dictionary<BpfCountPath, string[]>
    {
        [BpfCountPath.Hash] = new[] { "sys_enter", "sys_enter_latency", "sys_exit", "process_exit" },
        [BpfCountPath.TaskStorage] = new[] { "sys_enter_ts", "sys_enter_ts_latency", "sys_exit_ts", "process_exit_ts" },
        [BpfCountPath.TaskStorageRawTp] = new[] { "sys_enter_raw", "sys_enter_raw_latency", "sys_exit_raw", "process_exit_ts" },
    };

    /// <summary>Where the counts are kept (the path asked for, or the hash where task storage did not load).</summary>
    public BpfCountPath Path => _maps.Path;

    /// <summary>Walks of the task-storage iterator so far (for tests).</summary>
    internal long ThreadWalks => _maps.ThreadWalks;

    /// <summary>Snapshots that read the maps (for tests: the others reused the last result).</summary>
    internal long Walks => _maps.Walks;

    /// <summary>The programs' change count (for tests).</summary>
    internal ulong Changes => _maps.Changes;

    /// <summary>Whether the change count is read through an mmap (for tests).</summary>
    internal bool ChangesMapped => _maps.ChangesMapped;

    /// <summary>
    /// Loads and attaches: counts always, the enter -> exit pair when <paramref name="latency"/>, the exit cleanup always.
    /// <paramref name="onlyTgid"/> limits tracing to one process (0: all). Map sizes default to agg.h's.
    /// <paramref name="path"/>: null is task storage with tp/ programs where the kernel takes it (kvm_exits' path), else the hash.
    /// </summary>
    public static SyscallTracer Open(bool latency, int onlyTgid = 0, uint? maxCounts = null, uint? maxHistograms = null, IProbeLog? log = null,
        BpfCountPath? path = null)
    {
        var all = PathPrograms.Values.SelectMany(p => p).Distinct().ToArray();
        var obj = AggregationMaps.Load("selftest", AggregationMaps.Sizes(maxCounts, maxHistograms, latency), log, path, all,
            p => Attached(PathPrograms[p], latency), out var loaded);
        AggregationMaps? maps = null;
        try
        {
            obj.Map("filter").Update(0u, (uint)onlyTgid);
            maps = new AggregationMaps(obj, loaded); // the iterator is attached before any block can exist
            foreach (var program in Attached(PathPrograms[loaded], latency))
            {
                obj.Attach(program);
            }

            return new SyscallTracer(maps);
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

    /// <summary>What a mode attaches (and so loads), in attach order: the exit cleanup first, then counts alone or the
    /// latency pair's end before its begin (a begin without its end would only wait).</summary>
    private static string[] Attached(string[] programs, bool latency) =>
        latency ? new[] { programs[3], programs[2], programs[1] } : new[] { programs[3], programs[0] };

    /// <summary>Everything counted so far; the last snapshot again (the same instance) while no program changed a map.</summary>
    public SyscallSnapshot Snapshot()
    {
        if (!_maps.MustWalk() && _last is { } last)
        {
            return last;
        }

        _last = null;
        var rawCounts = _maps.ReadCounts();
        var counts = new SyscallCount[rawCounts.Count];
        for (var i = 0; i < counts.Length; i++)
        {
            var (k, v) = rawCounts[i];
            counts[i] = new SyscallCount((int)k.Tgid, (int)k.Tid, (int)k.F2, v);
        }

        var rawHists = _maps.ReadHistograms(_maps.Latency);
        var latencies = new SyscallLatency[rawHists.Count];
        for (var i = 0; i < latencies.Length; i++)
        {
            var (k, v) = rawHists[i];
            latencies[i] = new SyscallLatency((int)k.Tgid, (int)k.Field, BpfHistogram.From(v));
        }

        return _last = new SyscallSnapshot(counts, latencies);
    }

    /// <summary>Drops a process's keys now (the kernel drops them when the process exits).</summary>
    public int Forget(int tgid) => _maps.Forget((uint)tgid);

    public void Dispose() => _maps.Dispose();
}
