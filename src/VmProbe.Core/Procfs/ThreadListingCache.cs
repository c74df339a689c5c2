using System.Runtime.InteropServices;

namespace VmProbe.Procfs;

/// <summary>Lists the threads of many processes at once (the BPF task iterator), storing each listing in the cache.</summary>
internal interface IBulkThreadLister
{
    /// <summary>The proc tree whose pids it lists (the live one).</summary>
    string ProcDirectory { get; }

    /// <summary>Stores a listing for each of <paramref name="pids"/> it has threads of; the others are left to /proc.</summary>
    void ListThreads(IReadOnlyList<int> pids, ThreadListingCache into);
}

/// <summary>A process a bulk walk saw: one whose threads it listed, or a leader whose executable is named like QEMU.</summary>
/// <param name="StartTicks">Its start time as /proc/PID/stat field 22 gives it (USER_HZ ticks since boot); 0 when unknown.</param>
internal readonly record struct ListedProcess(int Pid, ulong StartTicks, bool Candidate);

/// <summary>A bulk lister whose walk also finds the host's QEMU processes (the BPF task iterator), so that /proc need not be listed.</summary>
internal interface IBulkProcessLister : IBulkThreadLister
{
    /// <summary>
    /// In one walk, stores the listings of <paramref name="tracked"/>'s threads and fills <paramref name="processes"/>
    /// (cleared first, by pid) with each tracked process that has threads and every other process whose executable is
    /// named like QEMU. False when the walk cannot stand for a /proc listing this cycle (it failed, a tracked process
    /// did not fit, or an executable's name could not be read): the caller lists /proc.
    /// </summary>
    bool ListProcesses(IReadOnlyList<int> tracked, ThreadListingCache into, List<ListedProcess> processes);
}

/// <summary>
/// The /proc/PID/task listings made in one cycle, shared by the discovery and the sources: without it each domain's
/// task directory was listed three times per cycle (discovery, procfs source, perf thread sync), and listing a procfs
/// directory (open, getdents building a dentry per thread, close) is among the dearest syscalls of the cycle.
/// </summary>
/// <remarks>
/// A listing is reused only within the cycle it was made in (<see cref="BeginCycle"/> starts a new one); a thread that
/// appears after the listing is seen the next cycle, one that exits is skipped by the reader like any thread that exits
/// between a listing and a read. Buffers are reused per pid; pids not listed in a cycle are dropped at the next
/// <see cref="BeginCycle"/>. Not thread-safe (the cycle runs on one thread at a time).
/// </remarks>
internal sealed class ThreadListingCache : ICycleScoped
{
    private readonly Dictionary<int, Listing> _listings = new();
    private readonly List<int> _stale = new();
    private string? _procDirectory;
    private long _cycle;

    /// <summary>Bytes of one thread's name in <see cref="Store(string, int, ReadOnlySpan{int}, ReadOnlySpan{ulong}, ReadOnlySpan{byte})"/> (TASK_COMM_LEN).</summary>
    public const int CommBytes = 16;

    /// <summary>Listings served from the cache since start (for tests and diagnostics).</summary>
    public long Hits { get; private set; }

    /// <summary>The current cycle's number: a bulk lister tells by it whether it already listed this cycle.</summary>
    public long Cycle => _cycle;

    /// <summary>
    /// Where <see cref="Prefetch"/> gets many listings in one read (set by the procfs source when its task iterator is
    /// loaded); null lists each task directory.
    /// </summary>
    public IBulkThreadLister? Bulk { get; set; }

    /// <summary>
    /// Lists the threads of all <paramref name="pids"/> in one bulk read when a bulk lister serves <paramref name="proc"/>'s
    /// tree: the discovery calls it before asking for each listing, so that no task directory is listed for them.
    /// </summary>
    public void Prefetch(ProcFs proc, IReadOnlyList<int> pids)
    {
        ArgumentNullException.ThrowIfNull(proc);
        if (Bulk is { } bulk && pids.Count > 0 && SameTree(proc)
            && string.Equals(bulk.ProcDirectory, proc.ProcDirectory, StringComparison.Ordinal))
        {
            bulk.ListThreads(pids, this);
        }
    }

    /// <summary>
    /// Finds the processes of <paramref name="proc"/>'s tree in the bulk lister's walk (see
    /// <see cref="IBulkProcessLister.ListProcesses"/>); false when no such lister serves the tree or its walk cannot
    /// stand for a /proc listing this cycle.
    /// </summary>
    public bool TryListProcesses(ProcFs proc, IReadOnlyList<int> tracked, List<ListedProcess> processes)
    {
        ArgumentNullException.ThrowIfNull(proc);
        return Bulk is IBulkProcessLister bulk && SameTree(proc)
            && string.Equals(bulk.ProcDirectory, proc.ProcDirectory, StringComparison.Ordinal)
            && bulk.ListProcesses(tracked, this, processes);
    }

    /// <summary>Starts a new cycle: earlier listings are no longer served; pids not listed last cycle are dropped.</summary>
    public void BeginCycle()
    {
        var previous = _cycle++;
        foreach (var (pid, listing) in _listings)
        {
            if (listing.Cycle != previous)
            {
                _stale.Add(pid);
            }
        }

        foreach (var pid in _stale)
        {
            _listings.Remove(pid);
        }

        _stale.Clear();
    }

    /// <summary>Records a listing of <paramref name="pid"/>'s task directory under <paramref name="proc"/> made this cycle.</summary>
    public void Store(ProcFs proc, int pid, ReadOnlySpan<int> threadIds)
    {
        ArgumentNullException.ThrowIfNull(proc);
        Store(proc.ProcDirectory, pid, threadIds);
    }

    /// <summary>Records a listing of <paramref name="pid"/>'s threads in the proc tree <paramref name="procDirectory"/>, made this cycle.</summary>
    public void Store(string procDirectory, int pid, ReadOnlySpan<int> threadIds) => Store(procDirectory, pid, threadIds, default);

    /// <summary>
    /// Records a listing with each thread's run time (<c>se.sum_exec_runtime</c>, ns) read at the same moment;
    /// <paramref name="threadIds"/> ascending. <see cref="TryGetRunTime"/> serves them this cycle.
    /// </summary>
    public void Store(string procDirectory, int pid, ReadOnlySpan<int> threadIds, ReadOnlySpan<ulong> runNanoseconds) =>
        Store(procDirectory, pid, threadIds, runNanoseconds, default);

    /// <summary>
    /// Records a listing with run times and each thread's name (<paramref name="comms"/>: <see cref="CommBytes"/> bytes per
    /// thread, NUL-padded, as the task iterator's records carry them); <see cref="TryGetComm"/> serves the names this cycle.
    /// </summary>
    public void Store(string procDirectory, int pid, ReadOnlySpan<int> threadIds, ReadOnlySpan<ulong> runNanoseconds, ReadOnlySpan<byte> comms)
    {
        if (!SameTree(procDirectory))
        {
            return;
        }

        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_listings, pid, out _);
        slot ??= new Listing();
        if (slot.ThreadIds.Length < threadIds.Length)
        {
            slot.ThreadIds = new int[Math.Max(threadIds.Length, slot.ThreadIds.Length * 2)];
        }

        threadIds.CopyTo(slot.ThreadIds);
        slot.Count = threadIds.Length;
        slot.Cycle = _cycle;
        slot.HasRunTimes = runNanoseconds.Length == threadIds.Length && threadIds.Length > 0;
        if (slot.HasRunTimes)
        {
            if (slot.RunNanoseconds.Length < runNanoseconds.Length)
            {
                slot.RunNanoseconds = new ulong[slot.ThreadIds.Length];
            }

            runNanoseconds.CopyTo(slot.RunNanoseconds);
        }

        slot.HasComms = comms.Length == threadIds.Length * CommBytes && threadIds.Length > 0;
        if (slot.HasComms)
        {
            if (slot.Comms.Length < comms.Length)
            {
                slot.Comms = new byte[slot.ThreadIds.Length * CommBytes];
            }

            comms.CopyTo(slot.Comms);
        }
    }

    /// <summary>
    /// A thread's name (up to its first NUL) from this cycle's listing, when the lister gave names (the task iterator
    /// does): the discovery's re-check of names reads no comm file then.
    /// </summary>
    public bool TryGetComm(ProcFs proc, int pid, int tid, out ReadOnlySpan<byte> comm)
    {
        ArgumentNullException.ThrowIfNull(proc);
        comm = default;
        if (!SameTree(proc) || !_listings.TryGetValue(pid, out var listing) || listing.Cycle != _cycle || !listing.HasComms)
        {
            return false;
        }

        var at = Array.BinarySearch(listing.ThreadIds, 0, listing.Count, tid);
        if (at < 0)
        {
            return false;
        }

        comm = listing.Comms.AsSpan(at * CommBytes, CommBytes);
        var end = comm.IndexOf((byte)0);
        comm = end < 0 ? comm : comm[..end];
        return true;
    }

    /// <summary>A thread's run time from this cycle's listing, when the lister gave run times (the task iterator does).</summary>
    public bool TryGetRunTime(int pid, int tid, out ulong runNanoseconds)
    {
        runNanoseconds = 0;
        if (!_listings.TryGetValue(pid, out var listing) || listing.Cycle != _cycle || !listing.HasRunTimes)
        {
            return false;
        }

        var at = Array.BinarySearch(listing.ThreadIds, 0, listing.Count, tid);
        if (at < 0)
        {
            return false;
        }

        runNanoseconds = listing.RunNanoseconds[at];
        return true;
    }

    /// <summary>Fills <paramref name="threadIds"/> (cleared first) from this cycle's listing of the pid; false when there is none.</summary>
    public bool TryGet(ProcFs proc, int pid, List<int> threadIds)
    {
        ArgumentNullException.ThrowIfNull(proc);
        if (!SameTree(proc) || !_listings.TryGetValue(pid, out var listing) || listing.Cycle != _cycle)
        {
            return false;
        }

        threadIds.Clear();
        for (var i = 0; i < listing.Count; i++)
        {
            threadIds.Add(listing.ThreadIds[i]);
        }

        Hits++;
        return true;
    }

    /// <summary>This cycle's listing of the pid if there is one, else lists /proc/PID/task and keeps it; false when the process is gone.</summary>
    public bool TryList(ProcFs proc, int pid, List<int> threadIds)
    {
        if (TryGet(proc, pid, threadIds))
        {
            return true;
        }

        if (!proc.TryListThreads(pid, threadIds))
        {
            return false;
        }

        Store(proc, pid, CollectionsMarshal.AsSpan(threadIds));
        return true;
    }

    // Pids mean something only within one proc tree: the first tree used is the one cached (fixture trees in tests
    // that mix roots simply list for themselves).
    private bool SameTree(ProcFs proc) => SameTree(proc.ProcDirectory);

    private bool SameTree(string procDirectory)
    {
        _procDirectory ??= procDirectory;
        return string.Equals(_procDirectory, procDirectory, StringComparison.Ordinal);
    }

    private sealed class Listing
    {
        public int[] ThreadIds = Array.Empty<int>();
        public int Count;
        public long Cycle = -1;
        public ulong[] RunNanoseconds = Array.Empty<ulong>();
        public bool HasRunTimes;
        public byte[] Comms = Array.Empty<byte>();
        public bool HasComms;
    }
}
