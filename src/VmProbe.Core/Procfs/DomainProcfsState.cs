using System.Globalization;
using System.Runtime.InteropServices;

namespace VmProbe.Procfs;

/// <summary>One thread of a tracked domain as last seen: its start time tells a reused thread id from the old thread.</summary>
internal struct TrackedThread
{
    public ulong StartTimeTicks;
    public long SeenCycle;
    public TaskCounters Counters;
}

/// <summary>What <see cref="DomainProcfsSource"/> keeps per domain between cycles; allocated once per domain, reused while it runs.</summary>
internal sealed class DomainProcfsState
{
    // Sized for a small VM's QEMU (vCPUs, I/O and worker threads) so that its first cycle does not grow it three times.
    private readonly Dictionary<int, TrackedThread> _threads = new(capacity: 16);
    private string[][] _vcpuLabels = Array.Empty<string[]>();
    private int[] _vcpuIndexes = Array.Empty<int>();
    private string? _name;
    private Guid _uuid;

    /// <summary>Last values of the threads that exited since the domain was first seen.</summary>
    private TaskCounters _retired;

    public TaskCounters Retired => _retired;

    public DomainProcfsSample Sample { get; } = new();

    public long SeenCycle { get; set; }

    public bool Failing { get; set; }

    public string[] Labels { get; private set; } = Array.Empty<string>();

    public void UpdateLabels(VmDomain domain)
    {
        if (_name == domain.Name && _uuid == domain.Uuid)
        {
            return;
        }

        _name = domain.Name;
        _uuid = domain.Uuid;
        // A domain found by process scan without -uuid has none: an empty label rather than a made-up zero uuid.
        Labels = new[] { domain.Name, domain.UuidLabel };
        Array.Clear(_vcpuLabels);
    }

    /// <summary>The labels of the vCPU at <paramref name="position"/> of <see cref="VmDomain.Vcpus"/>, cached per position.</summary>
    public string[] VcpuLabels(int position, int index)
    {
        if (position >= _vcpuLabels.Length)
        {
            Array.Resize(ref _vcpuLabels, position + 1);
            Array.Resize(ref _vcpuIndexes, position + 1);
        }

        ref var labels = ref _vcpuLabels[position];
        if (labels is null || _vcpuIndexes[position] != index)
        {
            labels = new[] { Labels[0], Labels[1], index.ToString(CultureInfo.InvariantCulture) };
            _vcpuIndexes[position] = index;
        }

        return labels;
    }

    /// <summary>Folds this cycle's threads into the tracked set and returns the domain total (live threads plus retired ones).</summary>
    public TaskCounters Advance(long cycle, List<int> exited)
    {
        foreach (ref readonly var thread in Sample.Threads)
        {
            ref var tracked = ref CollectionsMarshal.GetValueRefOrAddDefault(_threads, thread.ThreadId, out var existed);
            if (existed && tracked.StartTimeTicks != thread.StartTimeTicks)
            {
                // The id was reused by a new thread between two cycles: the old one exited.
                _retired.Add(tracked.Counters);
            }

            tracked.StartTimeTicks = thread.StartTimeTicks;
            tracked.SeenCycle = cycle;
            tracked.Counters = thread.Counters;
        }

        foreach (var (tid, tracked) in _threads)
        {
            if (tracked.SeenCycle != cycle)
            {
                _retired.Add(tracked.Counters);
                exited.Add(tid);
            }
        }

        foreach (var tid in exited)
        {
            _threads.Remove(tid);
        }

        exited.Clear();
        var total = _retired;
        total.Add(Sample.Total);
        return total;
    }
}
