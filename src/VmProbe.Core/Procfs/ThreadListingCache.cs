using System.Runtime.InteropServices;

namespace VmProbe.Procfs;

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

    /// <summary>Listings served from the cache since start (for tests and diagnostics).</summary>
    public long Hits { get; private set; }

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
        if (!SameTree(proc))
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
    private bool SameTree(ProcFs proc)
    {
        _procDirectory ??= proc.ProcDirectory;
        return string.Equals(_procDirectory, proc.ProcDirectory, StringComparison.Ordinal);
    }

    private sealed class Listing
    {
        public int[] ThreadIds = Array.Empty<int>();
        public int Count;
        public long Cycle = -1;
    }
}
