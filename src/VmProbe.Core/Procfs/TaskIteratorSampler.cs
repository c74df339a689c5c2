using VmProbe.Bpf;

namespace VmProbe.Procfs;

/// <summary>
/// Fills <see cref="DomainProcfsSample"/>s from one BPF task iterator read per cycle instead of two procfs files per
/// thread. Its numbers are procfs's: schedstat's are the same kernel fields in ns; stat's tick fields (guest time, start
/// time) are the same ns divided as the kernel's nsec_to_clock_t divides them. utime/stime are the raw tick-sampled
/// values (procfs scales them to the run time), so <see cref="TaskCounters.CpuTicks"/> may differ; no series uses it.
/// </summary>
internal sealed class TaskIteratorSampler : IDisposable
{
    private readonly TaskIterator _iterator;
    private readonly List<int> _pids = new();
    private readonly ulong _nsPerTick;

    public TaskIteratorSampler(TaskIterator iterator)
    {
        _iterator = iterator;
        _nsPerTick = (ulong)Math.Round(1e9 / ProcFs.ClockTicksPerSecond);
    }

    public TaskIterator Iterator => _iterator;

    /// <summary>Puts the domains' QEMU processes in the iterator's map and reads every thread of them, once for the cycle.</summary>
    public void BeginCycle(IReadOnlyList<VmDomain> domains)
    {
        _pids.Clear();
        foreach (var domain in domains)
        {
            if (domain.Pid > 0)
            {
                _pids.Add(domain.Pid);
            }
        }

        _iterator.SetProcesses(_pids);
        _iterator.Read();
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
