namespace VmProbe.Procfs;

/// <summary>Per-thread procfs counters of one task or summed over tasks.</summary>
public struct TaskCounters
{
    public ulong RunNanoseconds;
    public ulong WaitNanoseconds;
    public ulong Timeslices;
    public ulong MinorFaults;
    public ulong MajorFaults;

    /// <summary>utime + stime in USER_HZ ticks.</summary>
    public ulong CpuTicks;

    /// <summary>Time running guest code (KVM), in USER_HZ ticks; also included in <see cref="CpuTicks"/>.</summary>
    public ulong GuestTicks;

    internal void Add(in SchedStat sched, in TaskStat stat)
    {
        RunNanoseconds += sched.RunNanoseconds;
        WaitNanoseconds += sched.WaitNanoseconds;
        Timeslices += sched.Timeslices;
        MinorFaults += stat.MinorFaults;
        MajorFaults += stat.MajorFaults;
        CpuTicks += stat.UserTicks + stat.SystemTicks;
        GuestTicks += stat.GuestTicks;
    }

    internal void Add(in TaskCounters other)
    {
        RunNanoseconds += other.RunNanoseconds;
        WaitNanoseconds += other.WaitNanoseconds;
        Timeslices += other.Timeslices;
        MinorFaults += other.MinorFaults;
        MajorFaults += other.MajorFaults;
        CpuTicks += other.CpuTicks;
        GuestTicks += other.GuestTicks;
    }
}

/// <summary>One vCPU's counters; <see cref="Present"/> is false when its thread was not found this cycle.</summary>
public struct VcpuSample
{
    public int Index;
    public int ThreadId;
    public bool Present;
    public TaskCounters Counters;
}

/// <summary>One thread's counters as read this cycle; <see cref="StartTimeTicks"/> tells a reused thread id from the old thread.</summary>
public struct ThreadSample
{
    public int ThreadId;
    public ulong StartTimeTicks;
    public TaskCounters Counters;
}

/// <summary>What <see cref="DomainProcfsSampler.TrySample"/> fills; reuse one per domain (or one per cycle, copying out).</summary>
public sealed class DomainProcfsSample
{
    private VcpuSample[] _vcpus = Array.Empty<VcpuSample>();
    private ThreadSample[] _threads = Array.Empty<ThreadSample>();

    /// <summary>Sums over every thread of the QEMU process that was readable (vCPUs, emulator, I/O and worker threads).</summary>
    public TaskCounters Total;

    /// <summary>Threads summed into <see cref="Total"/>.</summary>
    public int ThreadCount { get; internal set; }

    public int VcpuCount { get; private set; }

    /// <summary>The domain's vCPUs in <see cref="VmDomain.Vcpus"/> order.</summary>
    public ReadOnlySpan<VcpuSample> Vcpus => _vcpus.AsSpan(0, VcpuCount);

    /// <summary>Every thread summed into <see cref="Total"/>, each with its own counters (for totals that survive thread exits).</summary>
    public ReadOnlySpan<ThreadSample> Threads => _threads.AsSpan(0, ThreadCount);

    internal void AddThread(int tid, in SchedStat sched, in TaskStat stat)
    {
        if (ThreadCount == _threads.Length)
        {
            Array.Resize(ref _threads, Math.Max(16, _threads.Length * 2));
        }

        ref var thread = ref _threads[ThreadCount];
        thread.ThreadId = tid;
        thread.StartTimeTicks = stat.StartTimeTicks;
        thread.Counters = default;
        thread.Counters.Add(sched, stat);
        Total.Add(sched, stat);
        ThreadCount++;
    }

    internal Span<VcpuSample> ResetVcpus(int count)
    {
        if (_vcpus.Length < count)
        {
            _vcpus = new VcpuSample[count];
        }

        VcpuCount = count;
        var span = _vcpus.AsSpan(0, count);
        span.Clear();
        return span;
    }
}

/// <summary>
/// Reads schedstat and stat of every thread of a domain's QEMU process each cycle: summed per domain and per vCPU.
/// Threads that exit between listing and reading are skipped; a process that is gone makes <see cref="TrySample"/>
/// return false. Buffers (file buffer, thread list) are reused: no allocation per thread. Not thread-safe.
/// </summary>
public sealed class DomainProcfsSampler : IDisposable
{
    private readonly ProcFs _proc;
    private readonly List<int> _tids = new(64);

    public DomainProcfsSampler(string root = "/") => _proc = new ProcFs(root);

    public ProcFs Proc => _proc;

    public bool TrySample(VmDomain domain, DomainProcfsSample sample)
    {
        sample.Total = default;
        sample.ThreadCount = 0;
        var vcpus = sample.ResetVcpus(domain.Vcpus.Count);
        for (var i = 0; i < vcpus.Length; i++)
        {
            vcpus[i].Index = domain.Vcpus[i].Index;
            vcpus[i].ThreadId = domain.Vcpus[i].ThreadId;
        }

        if (domain.Pid <= 0 || !_proc.TryListThreads(domain.Pid, _tids))
        {
            return false;
        }

        foreach (var tid in _tids)
        {
            if (!_proc.TryReadTaskSchedStat(domain.Pid, tid, out var sched) || !_proc.TryReadTaskStat(domain.Pid, tid, out var stat))
            {
                continue;
            }

            sample.AddThread(tid, sched, stat);
            for (var i = 0; i < vcpus.Length; i++)
            {
                if (vcpus[i].ThreadId == tid)
                {
                    vcpus[i].Present = true;
                    vcpus[i].Counters.Add(sched, stat);
                    break;
                }
            }
        }

        return sample.ThreadCount > 0;
    }

    public void Dispose() => _proc.Dispose();
}
