namespace VmProbe.Procfs;

/// <summary>Per-thread procfs counters of one task or summed over tasks.</summary>
internal struct TaskCounters
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
internal struct VcpuSample
{
    public int Index;
    public int ThreadId;
    public bool Present;
    public TaskCounters Counters;
}

/// <summary>One thread's counters as read this cycle; <see cref="StartTimeTicks"/> tells a reused thread id from the old thread.</summary>
internal struct ThreadSample
{
    public int ThreadId;
    public ulong StartTimeTicks;
    public TaskCounters Counters;
}

/// <summary>What <see cref="DomainProcfsSampler.TrySample"/> fills; reuse one per domain (or one per cycle, copying out).</summary>
internal sealed class DomainProcfsSample
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
        foreach (ref var vcpu in _vcpus.AsSpan(0, VcpuCount))
        {
            if (vcpu.ThreadId == tid)
            {
                vcpu.Present = true;
                vcpu.Counters.Add(sched, stat);
                break;
            }
        }
    }

    /// <summary>Empties the sample for <paramref name="domain"/>: no threads, its vCPUs (by thread id) not present yet.</summary>
    internal void Begin(VmDomain domain)
    {
        Total = default;
        ThreadCount = 0;
        var count = domain.Vcpus.Count;
        if (_vcpus.Length < count)
        {
            _vcpus = new VcpuSample[count];
        }

        VcpuCount = count;
        var vcpus = _vcpus.AsSpan(0, count);
        vcpus.Clear();
        for (var i = 0; i < vcpus.Length; i++)
        {
            vcpus[i].Index = domain.Vcpus[i].Index;
            vcpus[i].ThreadId = domain.Vcpus[i].ThreadId;
        }
    }
}

/// <summary>Where <see cref="DomainProcfsSource"/> reads per-thread data from.</summary>
internal enum ThreadReader
{
    /// <summary>An iterator was offered and the first cycle has not run yet.</summary>
    NotChosen,

    /// <summary>/proc/PID/task/TID/schedstat and stat of every thread (kept open, pread).</summary>
    Files,

    /// <summary>One BPF task iterator read per cycle.</summary>
    TaskIterator,
}
