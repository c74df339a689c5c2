using VmProbe.Procfs;

namespace VmProbe.Perf;

/// <summary>
/// Per-thread counters of one process (for a VM: its vCPU and other QEMU threads), kept in step with the thread list by
/// <see cref="Sync"/>. Threads that disappear are closed, but their last counts go into a retired total, so
/// <see cref="GetTotal"/> never goes backwards. Not thread-safe.
/// </summary>
internal sealed class ThreadPerfSession : IDisposable
{
    private readonly Dictionary<int, PerfCounterSet> threads = new();
    private readonly HashSet<int> wanted = new();
    private readonly List<int> toRetire = new();
    private readonly List<int> toOpen = new();
    private readonly PerfCount[] retired;
    private readonly PerfCount[] totals;
    private readonly PerfEventStatus?[] status;
    private readonly PerfFdBudget? budget;
    private readonly Dictionary<int, ulong> runAtRead = new();
    private readonly bool countsOnlyWhileRunning;

    public ThreadPerfSession(IReadOnlyList<PerfEventSpec> events, PerfOpenOptions? options = null, PerfFdBudget? budget = null)
    {
        Events = events ?? throw new ArgumentNullException(nameof(events));
        Options = options ?? PerfOpenOptions.Default;
        this.budget = budget;
        retired = new PerfCount[events.Count];
        totals = new PerfCount[events.Count];
        status = new PerfEventStatus?[events.Count];
        countsOnlyWhileRunning = events.Count > 0 && events.All(e => e.Kind is PerfEventKind.Hardware or PerfEventKind.Software or PerfEventKind.HardwareCache);
    }

    /// <summary>Group reads skipped because the thread had not run since its last read (for tests and diagnostics).</summary>
    public long IdleSkips { get; private set; }

    public IReadOnlyList<PerfEventSpec> Events { get; }

    public PerfOpenOptions Options { get; }

    /// <summary>TIDs counted now.</summary>
    public IReadOnlyCollection<int> ThreadIds => threads.Keys;

    /// <summary>Per event: supported on at least one thread, else the first failure seen; null until a thread was opened.</summary>
    public IReadOnlyList<PerfEventStatus?> Status => status;

    /// <summary>Opens counters for new TIDs and retires those no longer listed.</summary>
    public ThreadSyncResult Sync(IEnumerable<int> threadIds)
    {
        var retiredNow = Retire(threadIds, toOpen);
        int opened = 0, vanished = 0;
        foreach (var tid in toOpen)
        {
            if (Open(tid))
            {
                opened++;
            }
            else
            {
                vanished++;
            }
        }

        return new ThreadSyncResult(opened, retiredNow, vanished);
    }

    /// <summary>
    /// The first half of <see cref="Sync"/>: retires the threads no longer listed (their last counts kept) and fills
    /// <paramref name="newThreads"/> with the listed ones not counted yet, for <see cref="Open"/>. Returns how many retired.
    /// </summary>
    public int Retire(IEnumerable<int> threadIds, List<int> newThreads)
    {
        wanted.Clear();
        foreach (var tid in threadIds)
        {
            wanted.Add(tid);
        }

        toRetire.Clear();
        foreach (var tid in threads.Keys)
        {
            if (!wanted.Contains(tid))
            {
                toRetire.Add(tid);
            }
        }

        foreach (var tid in toRetire)
        {
            var set = threads[tid];
            TryRead(set); // Final counts: a dead thread's events stay readable until closed.
            for (var e = 0; e < retired.Length; e++)
            {
                retired[e] += set.GetTotal(e);
            }

            set.Dispose();
            threads.Remove(tid);
            runAtRead.Remove(tid);
        }

        newThreads.Clear();
        foreach (var tid in wanted)
        {
            if (!threads.ContainsKey(tid))
            {
                newThreads.Add(tid);
            }
        }

        return toRetire.Count;
    }

    /// <summary>
    /// Opens the counters of thread <paramref name="tid"/>; false when the thread is gone (ESRCH). Throws
    /// <see cref="PerfFdBudgetExceededException"/> and <see cref="PerfEventException"/> as <see cref="Sync"/> does.
    /// </summary>
    public bool Open(int tid)
    {
        if (threads.ContainsKey(tid))
        {
            return true;
        }

        if (OpenCounters(tid) is not { } set)
        {
            return false;
        }

        Adopt(tid, set);
        return true;
    }

    /// <summary>
    /// The half of <see cref="Open"/> that makes the system calls, for a thread not counted yet: safe to call from several
    /// threads at once (it touches nothing of this session's), each result then given to <see cref="Adopt"/> from one
    /// thread. Null when the thread is gone (ESRCH); throws as <see cref="Open"/> does.
    /// </summary>
    public PerfCounterSet? OpenCounters(int tid)
    {
        // Threads opening side by side may each pass this check before the others' fds count: the budget's reserve
        // (PerfFdBudget.ReservedFds) is far above a few threads' events.
        budget?.EnsureFits(Events.Count, $"{Events.Count} perf events on thread {tid}");
        try
        {
            return PerfCounterSet.Open(PerfTarget.Thread(tid), Events, Options);
        }
        catch (PerfEventException ex) when (ex.Errno == Native.Errno.ESRCH)
        {
            return null;
        }
    }

    /// <summary>Counts <paramref name="tid"/> with the counters <see cref="OpenCounters"/> opened for it (owned from here on).</summary>
    public void Adopt(int tid, PerfCounterSet set)
    {
        if (!threads.TryAdd(tid, set))
        {
            set.Dispose(); // counted already: the set opened first stays
            return;
        }

        for (var e = 0; e < status.Length; e++)
        {
            if (status[e] is not { Supported: true })
            {
                status[e] = set.Status[e];
            }
        }
    }

    /// <summary>
    /// Reads every thread and refreshes the totals (retired + live). With this cycle's thread run times
    /// (<paramref name="listings"/> of process <paramref name="pid"/>, from the task iterator), a thread whose run time
    /// has not moved since its last read keeps that read's counts: a per-thread hardware, cache or software event counts
    /// only while its thread runs (and its enabled/running times stand still with it), so the read would return the
    /// same numbers. Idle emulator threads are most of a QEMU's threads; tracepoints and dynamic PMUs are always read.
    /// </summary>
    public void Read(ThreadListingCache? listings = null, int pid = 0)
    {
        Array.Copy(retired, totals, totals.Length);
        var runTimes = countsOnlyWhileRunning ? listings : null;
        foreach (var (tid, set) in threads)
        {
            if (runTimes is not null && runTimes.TryGetRunTime(pid, tid, out var run))
            {
                if (runAtRead.TryGetValue(tid, out var before) && before == run)
                {
                    IdleSkips++;
                }
                else
                {
                    TryRead(set);
                    runAtRead[tid] = run;
                }
            }
            else
            {
                TryRead(set);
                runAtRead.Remove(tid);
            }

            var counts = set.Totals;
            for (var e = 0; e < totals.Length; e++)
            {
                totals[e] += counts[e];
            }
        }
    }

    /// <summary>Cumulative count of the process (live threads + retired ones) as of the last <see cref="Read"/>.</summary>
    public PerfCount GetTotal(int eventIndex) => totals[eventIndex];

    /// <summary>Counts of threads that were retired by <see cref="Sync"/>.</summary>
    public PerfCount GetRetired(int eventIndex) => retired[eventIndex];

    /// <summary>A live thread's cumulative count as of the last <see cref="Read"/>.</summary>
    public bool TryGetThread(int threadId, int eventIndex, out PerfCount count)
    {
        if (threads.TryGetValue(threadId, out var set))
        {
            count = set.GetTotal(eventIndex);
            return true;
        }

        count = default;
        return false;
    }

    /// <summary>The counter set of a live thread (status, per-event totals).</summary>
    public bool TryGetCounterSet(int threadId, out PerfCounterSet set) => threads.TryGetValue(threadId, out set!);

    /// <summary>A read failure of one thread keeps its previous counts; it must not stop the others.</summary>
    private static void TryRead(PerfCounterSet set)
    {
        try
        {
            set.Read();
        }
        catch (PerfEventException)
        {
        }
    }

    public void Dispose()
    {
        foreach (var set in threads.Values)
        {
            set.Dispose();
        }

        threads.Clear();
        runAtRead.Clear();
    }
}
