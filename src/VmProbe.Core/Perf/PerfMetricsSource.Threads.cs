namespace VmProbe.Perf;

/// <summary>
/// The perf source's threads of the domains counted per thread. Each cycle retires the threads gone and
/// gathers every domain's new ones, then opens them in one batch from the CPU each last ran on (<see cref="OnTargetCpu"/>),
/// on several threads when the batch is big: the system calls run side by side, what they opened is recorded under
/// <see cref="openGate"/>.
/// </summary>
internal sealed partial class PerfMetricsSource
{
    private readonly List<int> newThreads = new();
    private readonly List<PendingOpen> pendingOpens = new();
    private readonly List<DomainPerf> syncedThisCycle = new();
    private readonly HashSet<DomainPerf> failedThisCycle = new();
    private Func<PendingOpen, int>? lastCpu;
    private Action<PendingOpen>? open;
    private readonly object openGate = new();

    /// <summary>
    /// How many threads share a big batch of opens: several only where the log takes lines from any thread (an open
    /// that fails logs), as the runner's does; a cmdlet's log writes on the pipeline thread alone.
    /// </summary>
    internal int OpenWorkers => log is IConcurrentProbeLog ? OnTargetCpu.MaxWorkers : 1;

    // The fds the pending opens will take: a domain admitted after others in the same cycle is judged against them too.
    private long pendingThreadFds;

    private void SyncThreads(DomainKey key, DomainPerf perf)
    {
        if (!ListThreads(perf.Domain.Pid))
        {
            return; // Gone: keep the last counts until the domain is no longer listed.
        }

        perf.Threads!.Retire(threadIds, newThreads);
        foreach (var tid in newThreads)
        {
            pendingOpens.Add(new PendingOpen(key, perf, tid));
        }

        pendingThreadFds += (long)newThreads.Count * perf.Events.Length;

        syncedThisCycle.Add(perf);
    }

    private void OpenNewThreads()
    {
        try
        {
            OnTargetCpu.Run(pendingOpens, lastCpu ??= LastCpu, open ??= Open, OpenWorkers);
            foreach (var perf in syncedThisCycle)
            {
                var status = perf.Threads!.Status;
                for (var i = 0; i < status.Count; i++)
                {
                    if (status[i] is { } s)
                    {
                        MergeStatus(s, perf.EventMap[i], judgesEvents: true);
                    }
                }
            }
        }
        finally
        {
            ClearPendingOpens();
        }
    }

    private void ClearPendingOpens()
    {
        pendingOpens.Clear();
        failedThisCycle.Clear();
        syncedThisCycle.Clear();
        pendingThreadFds = 0;
    }

    // Only a hint (TaskStat.CpuHint): unknown (-1) when unreadable. A thread the discovery inspected this cycle (every
    // thread of a new VM) has it already.
    private int LastCpu(PendingOpen pending)
    {
        if (cpuHints is not null && cpuHints.TryGet(pending.Tid, out var hinted))
        {
            return hinted;
        }

        try
        {
            return procFs.TryReadTaskStat(pending.Perf.Domain.Pid, pending.Tid, out var stat) ? stat.CpuHint : -1;
        }
        catch (VmProbeException)
        {
            return -1;
        }
    }

    // A domain whose open fails starts no more opens this cycle (those already under way are kept); the next cycle tries
    // again. Called from the batch's threads at once: the system calls run outside the gate, all they change inside it.
    private void Open(PendingOpen pending)
    {
        var perf = pending.Perf;
        lock (openGate)
        {
            if (failedThisCycle.Contains(perf))
            {
                return;
            }
        }

        Exception failure;
        try
        {
            var set = perf.Threads!.OpenCounters(pending.Tid);
            if (set is not null)
            {
                lock (openGate)
                {
                    perf.Threads.Adopt(pending.Tid, set);
                }
            }

            return;
        }
        catch (Exception ex) when (ex is PerfFdBudgetExceededException or PerfEventException)
        {
            failure = ex;
        }

        lock (openGate)
        {
            RecordOpenFailure(pending, failure);
        }
    }

    private void RecordOpenFailure(PendingOpen pending, Exception failure)
    {
        var perf = pending.Perf;
        if (!failedThisCycle.Add(perf))
        {
            return; // another thread of this domain failed first and said so
        }

        switch (failure)
        {
            case PerfFdBudgetExceededException ex:
                // Summarised with the other domains in the same state, counted per domain and cycle.
                RefuseThreads(pending.Key, perf.Domain, ex);
                break;
            case PerfEventException { Kind: ProbeErrorKind.PermissionDenied } ex:
                // Not root: every VM fails alike; one summary line (ReportDenied) instead of one line per VM.
                deniedDomains++;
                deniedExample ??= $"domain '{perf.Domain.Name}': {ex.Message} [{ex.ErrorId}]";
                perf.OpenFailureLogged = true;
                break;
            case PerfEventException ex when !perf.OpenFailureLogged:
                perf.OpenFailureLogged = true;
                log.Write(LogLevel.Warning, $"perf: domain '{perf.Domain.Name}': some threads are not counted: {ex.Message} [{ex.ErrorId}]");
                break;
        }
    }

    private readonly record struct PendingOpen(DomainKey Key, DomainPerf Perf, int Tid);
}
