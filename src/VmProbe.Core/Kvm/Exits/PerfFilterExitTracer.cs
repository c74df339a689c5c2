using System.Globalization;
using VmProbe.Native;
using VmProbe.Perf;

namespace VmProbe.Kvm.Exits;

/// <summary>
/// kvm_stat's way, for hosts where eBPF cannot run: one counter of the <c>kvm:kvm_exit</c> tracepoint per reason and vCPU
/// thread, each with the perf filter <c>exit_reason==N</c> (PERF_EVENT_IOC_SET_FILTER), so the kernel counts only that
/// reason's exits. Counts only, for a fixed set of reasons, within the perf fd budget (reasons x vCPU threads fds).
/// kvm_exit fires in the vCPU thread that ran KVM_RUN, so per-thread counters attribute exits to their domain and vCPU.
/// The tracepoint and the filtered field are parameters: production counts <c>kvm:kvm_exit</c>/<c>exit_reason</c>, the
/// tests the same code on a tracepoint that fires on any machine (<c>raw_syscalls:sys_enter</c>/<c>id</c>).
/// </summary>
internal sealed class PerfFilterExitTracer : IKvmExitTracer
{
    public const string KvmExitTracepoint = "kvm:kvm_exit";
    public const string KvmExitReasonField = "exit_reason";

    private readonly string _tracepoint;
    private readonly string _field;
    private readonly ulong _tracepointId;
    private readonly KvmExitIsa _isa;
    private readonly uint[] _reasons;
    private readonly PerfFdBudget _budget;
    private readonly IProbeLog _log;
    private readonly Dictionary<int, ProcessCounters> _processes = new();
    private readonly HashSet<string> _logged = new(StringComparer.Ordinal);

    private PerfFilterExitTracer(string tracepoint, string field, ulong tracepointId, KvmExitIsa isa, IReadOnlyList<uint> reasons, PerfFdBudget budget, IProbeLog log)
    {
        _tracepoint = tracepoint;
        _field = field;
        _tracepointId = tracepointId;
        _isa = isa;
        _reasons = reasons.Distinct().ToArray();
        _budget = budget;
        _log = log;
    }

    public KvmExitTracerMode Mode => KvmExitTracerMode.PerfFilter;

    public string Description =>
        $"perf-filter: {_tracepoint} counted per vCPU thread for {_reasons.Length} reason(s) "
        + $"({string.Join(", ", _reasons.Select(r => KvmExitReasons.Name(_isa, r)))}), counts only, {_reasons.Length} perf fd(s) per vCPU";

    /// <summary>Perf fds open now.</summary>
    internal int OpenFds => _processes.Values.Sum(p => p.Threads.Count * _reasons.Length);

    /// <summary>
    /// Resolves the tracepoint and proves, on the calling thread, that a counter opens and the kernel accepts the filter
    /// for the first reason. Throws <see cref="KvmExitTracerUnavailableException"/> when not (no tracefs, the tracepoint
    /// missing, not permitted, filter refused).
    /// </summary>
    public static PerfFilterExitTracer Create(
        IReadOnlyList<uint> reasons, KvmExitIsa isa, IProbeLog? log = null, PerfFdBudget? budget = null,
        string tracepoint = KvmExitTracepoint, string field = KvmExitReasonField)
    {
        if (reasons.Count == 0)
        {
            throw new ArgumentException("at least one reason is needed", nameof(reasons));
        }

        ulong id;
        try
        {
            id = TracepointResolver.Resolve(tracepoint);
        }
        catch (TracepointException ex)
        {
            throw new KvmExitTracerUnavailableException($"perf-filter cannot count {tracepoint}: {ex.Message}", "kvmexits,perf_filter," + ex.ErrorId, ex);
        }

        using (var probe = OpenCounter(id, 0, Filter(field, reasons[0]), out var errno, out var operation))
        {
            if (probe is null)
            {
                throw new KvmExitTracerUnavailableException(
                    $"perf-filter cannot count {tracepoint}: {operation} failed with {Errno.Name(errno)} ({Errno.Describe(errno)})",
                    $"kvmexits,perf_filter,{operation},{Errno.Name(errno)}");
            }
        }

        return new PerfFilterExitTracer(tracepoint, field, id, isa, reasons, budget ?? new PerfFdBudget(), log ?? NullProbeLog.Instance);
    }

    public void Track(int tgid, IReadOnlyCollection<int> vcpuThreadIds)
    {
        if (!_processes.TryGetValue(tgid, out var process))
        {
            process = new ProcessCounters(_reasons.Length);
            _processes.Add(tgid, process);
        }

        foreach (var tid in process.Threads.Keys.Where(t => !vcpuThreadIds.Contains(t)).ToList())
        {
            process.Retire(tid); // its counts stay in the process's total
        }

        foreach (var tid in vcpuThreadIds)
        {
            if (!process.Threads.ContainsKey(tid) && OpenThread(tgid, tid) is { } fds)
            {
                process.Threads.Add(tid, fds);
            }
        }
    }

    public KvmExitSnapshot Snapshot()
    {
        var exits = new List<KvmExitCount>();
        foreach (var (tgid, process) in _processes)
        {
            foreach (var (tid, fds) in process.Threads)
            {
                for (var r = 0; r < _reasons.Length; r++)
                {
                    exits.Add(new KvmExitCount(tgid, tid, _isa, _reasons[r], ReadCount(fds[r])));
                }
            }

            for (var r = 0; r < _reasons.Length; r++)
            {
                if (process.Retired[r] > 0)
                {
                    exits.Add(new KvmExitCount(tgid, 0, _isa, _reasons[r], process.Retired[r]));
                }
            }
        }

        return KvmExitSnapshot.Empty with { Exits = exits };
    }

    public void Forget(int tgid)
    {
        if (_processes.Remove(tgid, out var process))
        {
            process.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var process in _processes.Values)
        {
            process.Dispose();
        }

        _processes.Clear();
    }

    internal static string Filter(string field, uint reason) => string.Create(CultureInfo.InvariantCulture, $"{field}=={reason}");

    private SafeFdHandle[]? OpenThread(int tgid, int tid)
    {
        if (!_budget.Fits(_reasons.Length))
        {
            LogOnce("budget", LogLevel.Warning, $"kvmexits: perf-filter leaves threads uncounted (first: {tid} of process {tgid}): "
                + $"{_reasons.Length} more perf fds do not fit under RLIMIT_NOFILE {_budget.Limit}; count fewer reasons (kvmexitreasons).");
            return null;
        }

        var fds = new SafeFdHandle[_reasons.Length];
        for (var r = 0; r < _reasons.Length; r++)
        {
            var fd = OpenCounter(_tracepointId, tid, Filter(_field, _reasons[r]), out var errno, out var operation);
            if (fd is null)
            {
                for (var k = 0; k < r; k++)
                {
                    fds[k].Dispose();
                }

                if (errno != Errno.ESRCH)
                {
                    LogOnce("open:" + errno, LogLevel.Warning, $"kvmexits: perf-filter cannot count thread {tid} of process {tgid}: {operation} failed with {Errno.Name(errno)} ({Errno.Describe(errno)})");
                }

                return null;
            }

            fds[r] = fd;
        }

        return fds;
    }

    /// <summary>A disabled counter on <paramref name="tid"/> (0: the calling thread), its filter set, then enabled: no event is counted unfiltered.</summary>
    private static SafeFdHandle? OpenCounter(ulong tracepointId, int tid, string filter, out int errno, out string operation)
    {
        var attr = new PerfEventAttr { Type = PerfEventConstants.TypeTracepoint, Config = tracepointId, Flags = PerfAttrFlags.Disabled };
        operation = "perf_event_open";
        errno = PerfEventFd.TryOpen(ref attr, tid, -1, null, 0, out var handle);
        if (errno != 0)
        {
            return null;
        }

        operation = "PERF_EVENT_IOC_SET_FILTER";
        errno = PerfEventFd.TrySetFilter(handle!, filter);
        if (errno == 0)
        {
            try
            {
                PerfEventFd.Enable(handle!, group: false);
                return handle;
            }
            catch (PerfEventException ex)
            {
                operation = "PERF_EVENT_IOC_ENABLE";
                errno = ex.Errno;
            }
        }

        handle!.Dispose();
        return null;
    }

    private static unsafe ulong ReadCount(SafeFdHandle fd)
    {
        ulong value = 0;
        var n = PerfEventFd.Read(fd, new Span<byte>(&value, sizeof(ulong)));
        return n == sizeof(ulong) ? value : 0;
    }

    private void LogOnce(string key, LogLevel level, string message)
    {
        if (_logged.Add(key) && _log.IsEnabled(level))
        {
            _log.Write(level, message);
        }
    }

    private sealed class ProcessCounters : IDisposable
    {
        public ProcessCounters(int reasons) => Retired = new ulong[reasons];

        public Dictionary<int, SafeFdHandle[]> Threads { get; } = new();

        /// <summary>Final counts of threads that went, per reason.</summary>
        public ulong[] Retired { get; }

        public void Retire(int tid)
        {
            if (!Threads.Remove(tid, out var fds))
            {
                return;
            }

            for (var r = 0; r < fds.Length; r++)
            {
                Retired[r] += ReadCount(fds[r]);
                fds[r].Dispose();
            }
        }

        public void Dispose()
        {
            foreach (var fds in Threads.Values)
            {
                foreach (var fd in fds)
                {
                    fd.Dispose();
                }
            }

            Threads.Clear();
        }
    }
}
