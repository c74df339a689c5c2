using VmProbe.Native;

namespace VmProbe.Perf;

/// <summary>
/// Runs per-thread work (opening and enabling a thread's counters) from the CPU each target thread last ran on.
/// perf_event_open and PERF_EVENT_IOC_ENABLE on another thread's events call a function on that thread's CPU
/// (the kernel's task_function_call): from any other CPU that is an interrupt sent and waited for, per event; from the
/// same CPU a plain call. Opening 1,600 threads' groups in one batch (the first cycle at 200 VMs) takes about half as
/// long pinned (bench/RESULTS.md); a small batch (a VM or a thread that started) is not worth moving the thread for.
/// </summary>
internal static class OnTargetCpu
{
    /// <summary>Batches smaller than this run where the calling thread is.</summary>
    public const int MinimumBatch = 32;

    // CPUs set apart for latency-sensitive work (isolcpus, nohz_full): the probe is not moved onto them.
    private static readonly Lazy<HashSet<int>> SetApart = new(() => ReadCpus("isolated").Concat(ReadCpus("nohz_full")).ToHashSet());

    /// <summary>
    /// Calls <paramref name="work"/> for every item: grouped by <paramref name="lastCpu"/> (-1: unknown) with the calling
    /// thread pinned to that CPU, in the items' order within a CPU; items of an unknown, unallowed or isolated CPU last,
    /// unpinned.
    /// The calling thread's affinity is given back before this returns, also when <paramref name="work"/> throws.
    /// </summary>
    public static void Run<T>(IReadOnlyList<T> items, Func<T, int> lastCpu, Action<T> work)
    {
        var affinity = items.Count >= MinimumBatch ? ThreadAffinity.TryCapture() : null;
        if (affinity is null)
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

        try
        {
            foreach (var (cpu, list) in byCpu)
            {
                if (!affinity.TryPin(cpu))
                {
                    elsewhere.AddRange(list);
                    continue;
                }

                list.ForEach(work);
            }
        }
        finally
        {
            affinity.Restore();
        }

        elsewhere.ForEach(work);
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
}
