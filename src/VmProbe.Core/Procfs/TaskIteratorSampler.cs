using VmProbe.Bpf;

namespace VmProbe.Procfs;

/// <summary>
/// Fills <see cref="DomainProcfsSample"/>s from one BPF task iterator read per cycle instead of two procfs files per
/// thread. Its numbers are procfs's: schedstat's are the same kernel fields in ns; stat's tick fields (guest time, start
/// time) are the same ns divided as the kernel's nsec_to_clock_t divides them. utime/stime are the raw tick-sampled
/// values (procfs scales them to the run time), so <see cref="TaskCounters.CpuTicks"/> may differ; no series uses it.
/// </summary>
/// <remarks>
/// It also lists threads for the cycle's <see cref="ThreadListingCache"/> (<see cref="IBulkThreadLister"/>): the process
/// discovery asks it for every QEMU process' threads before the sources run, and the one read then serves the
/// discovery, this source and the perf source's thread sync, so no /proc/PID/task directory is listed. The same read
/// finds new QEMU processes (<see cref="IBulkProcessLister"/>), so the discovery does not list /proc either.
/// </remarks>
internal sealed class TaskIteratorSampler : IBulkProcessLister, IDisposable
{
    private readonly TaskIterator _iterator;
    private readonly List<int> _pids = new();
    private readonly HashSet<int> _listed = new();
    private readonly ulong _nsPerTick;
    private int[] _tids = new int[64];
    private ulong[] _runs = new ulong[64];
    private byte[] _comms = new byte[64 * ThreadListingCache.CommBytes];
    private long _listedCycle = -1;
    private BpfException? _listError;

    public TaskIteratorSampler(TaskIterator iterator, string procDirectory = "/proc")
    {
        _iterator = iterator;
        ProcDirectory = procDirectory;
        _nsPerTick = (ulong)Math.Round(1e9 / ProcFs.ClockTicksPerSecond);
    }

    public TaskIterator Iterator => _iterator;

    public string ProcDirectory { get; }

    /// <summary>Reads of the iterator since start (for tests and diagnostics: one per cycle when the discovery listed).</summary>
    public long Reads { get; private set; }

    /// <summary>What each read visits (<see cref="TaskIterator.Description"/>).</summary>
    public string Description => _iterator.Description;

    /// <summary>
    /// Reads every thread of the domains' QEMU processes, once for the cycle: nothing when this cycle's bulk listing
    /// already read them all. Throws what a failed read threw, including the listing's failure.
    /// </summary>
    public void BeginCycle(IReadOnlyList<VmDomain> domains, ThreadListingCache? listings = null)
    {
        if (_listError is { } error)
        {
            _listError = null;
            throw error;
        }

        _pids.Clear();
        var allListed = listings is not null && _listedCycle == listings.Cycle;
        foreach (var domain in domains)
        {
            if (domain.Pid > 0)
            {
                _pids.Add(domain.Pid);
                allListed &= _listed.Contains(domain.Pid);
            }
        }

        if (!allListed)
        {
            ReadProcesses(_pids);
            if (listings is not null)
            {
                Store(_pids, listings);
            }
        }
    }

    /// <inheritdoc/>
    public void ListThreads(IReadOnlyList<int> pids, ThreadListingCache into)
    {
        try
        {
            ReadProcesses(pids);
        }
        catch (BpfException error)
        {
            // The source that owns the iterator reports it and falls back (BeginCycle rethrows); /proc lists meanwhile.
            _listError = error;
            into.Bulk = null;
            return;
        }

        Store(pids, into);
    }

    /// <inheritdoc/>
    public bool ListProcesses(IReadOnlyList<int> tracked, ThreadListingCache into, List<ListedProcess> processes)
    {
        processes.Clear();
        ListThreads(tracked, into);
        if (into.Bulk is null)
        {
            return false; // the read failed: ListThreads withdrew the iterator
        }

        foreach (var pid in tracked)
        {
            if (!_iterator.Tracks(pid))
            {
                return false; // the map was full: a process it could not see is not a gone one
            }
        }

        if (_iterator.UnreadableCount > 0)
        {
            return false; // a process the walk could not name may be QEMU: /proc names it
        }

        foreach (var pid in tracked)
        {
            var threads = _iterator.Threads(pid);
            if (!threads.IsEmpty)
            {
                processes.Add(new ListedProcess(pid, LeaderStartTicks(threads, pid), Candidate: false));
            }
        }

        foreach (ref readonly var leader in _iterator.Candidates)
        {
            processes.Add(new ListedProcess((int)leader.Tgid, leader.StartNanoseconds / _nsPerTick, Candidate: true));
        }

        processes.Sort(static (a, b) => a.Pid.CompareTo(b.Pid));
        return true;
    }

    // The leader's start time tells a reused pid from the process it was; 0 when the leader has no record.
    private ulong LeaderStartTicks(ReadOnlySpan<TaskRecord> threads, int pid)
    {
        foreach (ref readonly var thread in threads)
        {
            if (thread.Tid == (uint)pid)
            {
                return thread.StartNanoseconds / _nsPerTick;
            }
        }

        return 0;
    }

    private void ReadProcesses(IReadOnlyList<int> pids)
    {
        _listedCycle = -1;
        _iterator.SetProcesses(pids);
        _iterator.Read();
        Reads++;
    }

    private void Store(IReadOnlyList<int> pids, ThreadListingCache into)
    {
        _listed.Clear();
        foreach (var pid in pids)
        {
            _listed.Add(pid);
            var threads = _iterator.Threads(pid);
            if (threads.IsEmpty)
            {
                continue; // not tracked or not visible: /proc tells a gone process from a live one
            }

            if (_tids.Length < threads.Length)
            {
                _tids = new int[Math.Max(threads.Length, _tids.Length * 2)];
                _runs = new ulong[_tids.Length];
                _comms = new byte[_tids.Length * ThreadListingCache.CommBytes];
            }

            for (var i = 0; i < threads.Length; i++)
            {
                _tids[i] = (int)threads[i].Tid;
                _runs[i] = threads[i].RunNanoseconds;
                threads[i].CopyComm(_comms.AsSpan(i * ThreadListingCache.CommBytes, ThreadListingCache.CommBytes));
            }

            // The names too: the discovery's re-check of a new QEMU's thread names then reads no comm file.
            into.Store(ProcDirectory, pid, _tids.AsSpan(0, threads.Length), _runs.AsSpan(0, threads.Length),
                _comms.AsSpan(0, threads.Length * ThreadListingCache.CommBytes));
        }

        _listedCycle = into.Cycle;
    }

    /// <summary>
    /// Fills <paramref name="sample"/> from this cycle's read and returns true; false when the iterator has nothing for
    /// the domain's process: not tracked (the map was full) or no record (gone, or not visible to the iterator: pid 1 of
    /// this test host is not), and the caller reads its files, which tell a gone process from a live one.
    /// </summary>
    public bool TrySample(VmDomain domain, DomainProcfsSample sample)
    {
        if (domain.Pid <= 0 || !_iterator.Tracks(domain.Pid) || _iterator.Threads(domain.Pid).IsEmpty)
        {
            return false;
        }

        sample.Begin(domain);
        foreach (ref readonly var record in _iterator.Threads(domain.Pid))
        {
            sample.AddThread((int)record.Tid, ToSchedStat(record), ToTaskStat(record, _nsPerTick));
        }

        return true;
    }

    public void Dispose() => _iterator.Dispose();

    internal static SchedStat ToSchedStat(in TaskRecord record) =>
        new(record.RunNanoseconds, record.WaitNanoseconds, record.Timeslices);

    /// <summary>The stat fields the source uses; the ones the record lacks (state, ppid, threads, last CPU) are neutral.</summary>
    internal static TaskStat ToTaskStat(in TaskRecord record, ulong nsPerTick) =>
        new('?', 0, record.MinorFaults, record.MajorFaults, record.UserNanoseconds / nsPerTick, record.SystemNanoseconds / nsPerTick,
            0, record.StartNanoseconds / nsPerTick, -1, record.GuestNanoseconds / nsPerTick);
}
