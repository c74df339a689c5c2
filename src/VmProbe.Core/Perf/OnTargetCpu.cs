using System.Runtime.ExceptionServices;
using VmProbe.Native;

namespace VmProbe.Perf;

/// <summary>
/// Runs per-thread work (opening and enabling a thread's counters) from the CPU each target thread last ran on.
/// perf_event_open and PERF_EVENT_IOC_ENABLE on another thread's events call a function on that thread's CPU
/// (the kernel's task_function_call): from any other CPU that is an interrupt sent and waited for, per event; from the
/// same CPU a plain call. Opening 1,600 threads' groups in one batch (the first cycle at 200 VMs) takes about half as
/// long pinned (bench/RESULTS.md); a small batch (a VM or a thread that started) is not worth moving the thread for.
/// A big batch is shared by several threads, each pinned to its CPUs in turn: the opens on different CPUs take
/// different locks, so the first cycle's opens end sooner on a host with CPUs to spare.
/// </summary>
internal static class OnTargetCpu
{
    /// <summary>Batches smaller than this run where the calling thread is.</summary>
    public const int MinimumBatch = 32;

    /// <summary>The most threads a batch is shared by (the calling thread one of them): a probe starting on a big host
    /// should not take many of its CPUs at once, even for a moment.</summary>
    public const int MaxWorkers = 4;

    // CPUs set apart for latency-sensitive work (isolcpus, nohz_full): the probe is not moved onto them.
    private static readonly Lazy<HashSet<int>> SetApart = new(() => ReadCpus("isolated").Concat(ReadCpus("nohz_full")).ToHashSet());

    /// <summary>
    /// Calls <paramref name="work"/> for every item: grouped by <paramref name="lastCpu"/> (-1: unknown) with the calling
    /// thread pinned to that CPU, in the items' order within a CPU; items of an unknown, unallowed or isolated CPU last,
    /// unpinned. With <paramref name="workers"/> above 1 the CPUs are shared among that many threads (at most
    /// <see cref="MaxWorkers"/>), so <paramref name="work"/> must be safe to call from several threads at once.
    /// Every thread's affinity is given back before this returns; when <paramref name="work"/> throws, the threads stop
    /// taking items and the first exception is rethrown once all have stopped.
    /// </summary>
    public static void Run<T>(IReadOnlyList<T> items, Func<T, int> lastCpu, Action<T> work, int workers = 1)
    {
        if (items.Count < MinimumBatch || ThreadAffinity.TryCapture() is not { } affinity)
        {
            for (var i = 0; i < items.Count; i++)
            {
                work(items[i]); // by index: this runs every cycle, and an interface enumerator is an allocation
            }

            return;
        }

        var byCpu = new SortedDictionary<int, List<T>>();
        var elsewhere = new List<T>();
        foreach (var item in items)
        {
            var cpu = lastCpu(item);
            if (!affinity.Allows(cpu) || SetApart.Value.Contains(cpu))
            {
                elsewhere.Add(item);
            }
            else if (byCpu.TryGetValue(cpu, out var list))
            {
                list.Add(item);
            }
            else
            {
                byCpu.Add(cpu, new List<T> { item });
            }
        }

        var batch = new PinnedBatch<T>(work, Share(byCpu, Math.Clamp(workers, 1, MaxWorkers)));
        batch.Run(affinity);
        elsewhere.AddRange(batch.Refused);
        batch.ThrowIfFailed();
        elsewhere.ForEach(work);
    }

    // Longest first to the least loaded: the threads end about together however unevenly the VMs' threads spread.
    private static List<KeyValuePair<int, List<T>>>[] Share<T>(SortedDictionary<int, List<T>> byCpu, int workers)
    {
        var shares = new List<KeyValuePair<int, List<T>>>[Math.Min(workers, Math.Max(1, byCpu.Count))];
        var loads = new int[shares.Length];
        for (var w = 0; w < shares.Length; w++)
        {
            shares[w] = new List<KeyValuePair<int, List<T>>>();
        }

        foreach (var group in byCpu.OrderByDescending(g => g.Value.Count))
        {
            var least = Array.IndexOf(loads, loads.Min());
            shares[least].Add(group);
            loads[least] += group.Value.Count;
        }

        foreach (var share in shares)
        {
            share.Sort((a, b) => a.Key.CompareTo(b.Key));
        }

        return shares;
    }

    private static IEnumerable<int> ReadCpus(string list)
    {
        var path = $"/sys/devices/system/cpu/{list}";
        try
        {
            return File.Exists(path) ? CpuList.Parse(File.ReadAllText(path), list) : Array.Empty<int>();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or VmProbeException)
        {
            return Array.Empty<int>(); // no such list on this kernel: nothing set apart
        }
    }

    /// <summary>The CPU groups of one batch, each share run by one thread pinned to its CPUs in turn.</summary>
    private sealed class PinnedBatch<T>
    {
        private readonly Action<T> _work;
        private readonly List<KeyValuePair<int, List<T>>>[] _shares;
        private readonly List<T> _refused = new();
        private ExceptionDispatchInfo? _failure;
        private volatile bool _stop;

        public PinnedBatch(Action<T> work, List<KeyValuePair<int, List<T>>>[] shares)
        {
            _work = work;
            _shares = shares;
        }

        /// <summary>The items of CPUs the kernel would not pin a thread to: they run unpinned after the batch.</summary>
        public IReadOnlyList<T> Refused => _refused;

        /// <summary>Runs the first share on the calling thread (<paramref name="affinity"/>: its own) and the others on
        /// threads of their own, and returns when all are done.</summary>
        public void Run(ThreadAffinity affinity)
        {
            var others = new List<Thread>(_shares.Length - 1);
            var mine = _shares[0];
            try
            {
                for (var w = 1; w < _shares.Length; w++)
                {
                    var share = _shares[w];
                    try
                    {
                        var thread = new Thread(() => RunShare(share, ThreadAffinity.TryCapture())) { IsBackground = true, Name = "vmprobe perf open" };
                        thread.Start();
                        others.Add(thread);
                    }
                    catch (Exception error) when (error is OutOfMemoryException or ThreadStartException)
                    {
                        mine = mine.Concat(share).ToList(); // no thread to be had (a thread limit): the caller runs it
                    }
                }

                RunShare(mine, affinity);
            }
            finally
            {
                foreach (var thread in others)
                {
                    thread.Join(); // nothing of the batch may run once this returns
                }
            }
        }

        public void ThrowIfFailed() => _failure?.Throw();

        private void RunShare(List<KeyValuePair<int, List<T>>> share, ThreadAffinity? affinity)
        {
            try
            {
                foreach (var (cpu, list) in share)
                {
                    if (affinity is null || !affinity.TryPin(cpu))
                    {
                        lock (_refused)
                        {
                            _refused.AddRange(list);
                        }

                        continue;
                    }

                    foreach (var item in list)
                    {
                        if (_stop)
                        {
                            return;
                        }

                        _work(item);
                    }
                }
            }
            catch (Exception error)
            {
                _stop = true;
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(error), null);
            }
            finally
            {
                affinity?.Restore();
            }
        }
    }
}
