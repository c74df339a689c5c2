using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VmProbe.Native;

namespace VmProbe.Procfs;

/// <summary>
/// Reads schedstat and stat of every thread of a domain's QEMU process each cycle: summed per domain and per vCPU.
/// Threads that exit between listing and reading are skipped; a process that is gone makes <see cref="TrySample"/>
/// return false. Buffers (file buffer, thread list) are reused: no allocation per thread. Not thread-safe.
/// </summary>
/// <remarks>
/// Both files of every thread are kept open across cycles (<see cref="KeptProcFile"/>) and re-read with pread:
/// the open and close are two thirds of a procfs read. A kept file whose thread exited fails to read (even when its id
/// was reused) and is closed; files of threads not listed in a cycle (between <see cref="BeginCycle"/> and
/// <see cref="EndCycle"/>) are closed at its end. At most <see cref="MaxKeptFds"/> files (and half of RLIMIT_NOFILE) are kept, and never so many that
/// they, the perf fds and twice <c>PerfFdBudget.DefaultReservedFds</c> exceed RLIMIT_NOFILE; threads beyond that
/// are read with open/read/close.
/// </remarks>
internal sealed class DomainProcfsSampler : IDisposable
{
    /// <summary>Default ceiling of kept fds: two per thread of 4096 threads.</summary>
    public const int DefaultMaxKeptFds = 8192;

    private readonly ProcFs _proc;
    private readonly List<int> _tids = new(64);
    private readonly Dictionary<long, KeptThreadFiles> _kept = new();
    private readonly List<long> _closing = new();
    private long _cycle;
    private long _keptAllowance;

    public DomainProcfsSampler(string root = "/", int maxKeptFds = DefaultMaxKeptFds)
    {
        _proc = new ProcFs(root);
        MaxKeptFds = Math.Max(0, maxKeptFds);
        BeginCycle();
    }

    public ProcFs Proc => _proc;

    /// <summary>Ceiling of procfs fds this sampler keeps open; 0 reads every file with open/read/close.</summary>
    public int MaxKeptFds { get; }

    /// <summary>Procfs fds this sampler keeps open now (two per kept thread).</summary>
    public int KeptFdCount => _kept.Count * 2;

    /// <summary>Starts a cycle: threads not sampled until <see cref="EndCycle"/> have their kept files closed then.</summary>
    public void BeginCycle()
    {
        _cycle++;
        var limit = FdLimits.TryGetNoFileLimit(out var soft, out _) == 0 ? (long)Math.Min(soft, int.MaxValue) : 1024;

        // The fds still free for kept files: perf fds count first (they cannot fall back), and a reserve stays free twice.
        var free = limit - FdLimits.OpenPerfFds - (KeptProcFile.OpenCount - KeptFdCount) - (2L * FdLimits.DefaultReservedFds);
        // At most half the limit: perf fds cannot fall back to anything, kept files can.
        _keptAllowance = Math.Min(Math.Min(MaxKeptFds, limit / 2), Math.Max(0, free));
    }

    /// <summary>Closes the kept files of the threads (and domains) not sampled since <see cref="BeginCycle"/>.</summary>
    public void EndCycle()
    {
        foreach (var (key, files) in _kept)
        {
            if (files.SeenCycle != _cycle)
            {
                _closing.Add(key);
            }
        }

        foreach (var key in _closing)
        {
            if (_kept.Remove(key, out var files))
            {
                files.Dispose();
            }
        }

        _closing.Clear();
    }

    public bool TrySample(VmDomain domain, DomainProcfsSample sample, ThreadListingCache? threadListings = null)
    {
        sample.Begin(domain);
        if (domain.Pid <= 0 || !(threadListings?.TryList(_proc, domain.Pid, _tids) ?? _proc.TryListThreads(domain.Pid, _tids)))
        {
            return false;
        }

        foreach (var tid in _tids)
        {
            if (!TryReadThread(domain.Pid, tid, out var sched, out var stat))
            {
                continue;
            }

            sample.AddThread(tid, sched, stat);
        }

        return sample.ThreadCount > 0;
    }

    public void Dispose()
    {
        foreach (var files in _kept.Values)
        {
            files.Dispose();
        }

        _kept.Clear();
        _proc.Dispose();
    }

    private bool TryReadThread(int pid, int tid, out SchedStat sched, out TaskStat stat)
    {
        stat = default;
        var key = ((long)pid << 32) | (uint)tid;
        ref var files = ref CollectionsMarshal.GetValueRefOrNullRef(_kept, key);
        if (!Unsafe.IsNullRef(ref files))
        {
            files.SeenCycle = _cycle;
            if (_proc.TryReadTaskSchedStat(files.SchedStat, out sched) && _proc.TryReadTaskStat(files.Stat, out stat))
            {
                return true;
            }

            // The kept files belong to a thread that exited; the listed id may be a new thread: open it afresh.
            files.Dispose();
            _kept.Remove(key);
        }

        if (KeptFdCount + 2 <= _keptAllowance && TryKeep(pid, tid, key, out sched, out stat, out var opened))
        {
            return opened;
        }

        if (!_proc.TryReadTaskSchedStat(pid, tid, out sched))
        {
            return false;
        }

        return _proc.TryReadTaskStat(pid, tid, out stat);
    }

    /// <summary>Opens and reads both files to keep them; false when they could not be kept (fall back), else <paramref name="read"/> tells whether the thread was read.</summary>
    private bool TryKeep(int pid, int tid, long key, out SchedStat sched, out TaskStat stat, out bool read)
    {
        sched = default;
        stat = default;
        read = false;
        var schedFile = _proc.TryOpenTaskFile(pid, tid, "schedstat");
        if (schedFile is null)
        {
            return false;
        }

        var statFile = _proc.TryOpenTaskFile(pid, tid, "stat");
        if (statFile is null)
        {
            schedFile.Dispose();
            return false;
        }

        var files = new KeptThreadFiles(schedFile, statFile) { SeenCycle = _cycle };
        try
        {
            read = _proc.TryReadTaskSchedStat(schedFile, out sched) && _proc.TryReadTaskStat(statFile, out stat);
        }
        catch
        {
            files.Dispose();
            throw;
        }

        if (read)
        {
            _kept[key] = files;
        }
        else
        {
            files.Dispose();
        }

        return true;
    }

    private struct KeptThreadFiles : IDisposable
    {
        public KeptThreadFiles(KeptProcFile schedStat, KeptProcFile stat)
        {
            SchedStat = schedStat;
            Stat = stat;
            SeenCycle = 0;
        }

        public KeptProcFile SchedStat { get; }

        public KeptProcFile Stat { get; }

        public long SeenCycle { get; set; }

        public readonly void Dispose()
        {
            SchedStat.Dispose();
            Stat.Dispose();
        }
    }
}
