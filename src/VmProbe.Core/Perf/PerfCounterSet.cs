using System.Runtime.InteropServices;
using VmProbe.Native;

namespace VmProbe.Perf;

/// <summary>
/// A list of events counted on one <see cref="PerfTarget"/>: one group per CPU (host, cgroup) or one group (thread), split into
/// smaller groups when the PMU cannot schedule them together. Counts are cumulative from <see cref="Open"/>, never reset.
/// Unsupported events are left out and reported in <see cref="Status"/>.
/// </summary>
internal sealed class PerfCounterSet : IDisposable
{
    private readonly PerfOpenOptions options;
    private readonly CpuSlot[] slots;
    private readonly PerfCount[] totals;
    private readonly PerfEventStatus[] status;
    private bool disposed;

    private PerfCounterSet(PerfTarget target, IReadOnlyList<PerfEventSpec> events, PerfOpenOptions options, int[] cpus)
    {
        Target = target;
        Events = events;
        this.options = options;
        totals = new PerfCount[events.Count];
        status = new PerfEventStatus[events.Count];
        slots = new CpuSlot[cpus.Length];
        for (var i = 0; i < cpus.Length; i++)
        {
            slots[i] = new CpuSlot(cpus[i], events.Count);
        }
    }

    public PerfTarget Target { get; }

    public IReadOnlyList<PerfEventSpec> Events { get; }

    /// <summary>Per event (same order as <see cref="Events"/>): supported, or why not.</summary>
    public IReadOnlyList<PerfEventStatus> Status => status;

    /// <summary>The CPUs of the per-CPU groups; a single -1 for a thread target.</summary>
    public IReadOnlyList<int> Cpus => Array.ConvertAll(slots, s => s.Cpu);

    /// <summary>Perf fds this set holds.</summary>
    public int OpenFdCount => slots.Sum(s => s.Groups.Sum(g => g.Count));

    /// <summary>True once a read found the thread gone (its last counts are kept).</summary>
    public bool IsGone { get; private set; }

    /// <summary>Perf groups this set holds (one read() each per cycle).</summary>
    public int GroupCount => slots.Sum(s => s.Groups.Count);

    /// <summary>Number of times a group was split because the PMU could not schedule it whole.</summary>
    public int GroupSplits { get; private set; }

    /// <summary>Opens (disabled), then enables all groups. Throws <see cref="PerfEventException"/> for ESRCH (thread gone),
    /// EMFILE/ENFILE, or when no event could be opened because of EACCES/EPERM.</summary>
    public static PerfCounterSet Open(PerfTarget target, IReadOnlyList<PerfEventSpec> events, PerfOpenOptions? options = null, IReadOnlyList<int>? cpus = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(events);
        var cpuList = target.IsPerCpu ? (cpus?.ToArray() ?? CpuList.ReadOnline()) : new[] { -1 };
        var set = new PerfCounterSet(target, events, options ?? PerfOpenOptions.Default, cpuList);
        try
        {
            set.OpenAll();
            return set;
        }
        catch
        {
            set.Dispose();
            throw;
        }
    }

    /// <summary>The cumulative count of event <paramref name="eventIndex"/>, summed over CPUs (as of the last <see cref="Read"/>).</summary>
    public PerfCount GetTotal(int eventIndex) => totals[eventIndex];

    /// <summary>All totals, indexed like <see cref="Events"/>.</summary>
    public ReadOnlySpan<PerfCount> Totals => totals;

    /// <summary>The count of an event on the CPU at <paramref name="cpuSlot"/> (an index into <see cref="Cpus"/>).</summary>
    public PerfCount GetPerCpu(int eventIndex, int cpuSlot) => slots[cpuSlot].Counts[eventIndex];

    /// <summary>Reads every group (one read() each) and refreshes totals. Returns false when the thread is gone.</summary>
    public bool Read()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var alive = true;
        foreach (var slot in slots)
        {
            for (var g = 0; g < slot.Groups.Count; g++)
            {
                var result = slot.Groups[g].Read(slot.Counts);
                if (result == PerfGroupReadStatus.Gone)
                {
                    alive = false;
                }
                else if (result == PerfGroupReadStatus.NotScheduled)
                {
                    SplitGroup(slot, g);
                }
            }
        }

        Array.Clear(totals);
        foreach (var slot in slots)
        {
            for (var e = 0; e < totals.Length; e++)
            {
                totals[e] += slot.Counts[e];
            }
        }

        IsGone |= !alive;
        return alive;
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        foreach (var slot in slots)
        {
            foreach (var group in slot.Groups)
            {
                group.Dispose();
            }

            slot.Groups.Clear();
        }
    }

    private void OpenAll()
    {
        var pid = Target.ThreadId;
        ulong flags = 0;
        SafeFdHandle? cgroupDir = null;
        if (Target.Kind == PerfTargetKind.Cgroup)
        {
            cgroupDir = Interop.Libc.Open(Target.CgroupPath!, Interop.Libc.O_RDONLY | Interop.Libc.O_DIRECTORY | Interop.Libc.O_CLOEXEC);
            if (cgroupDir.IsInvalid)
            {
                var errno = Marshal.GetLastPInvokeError();
                cgroupDir.Dispose();
                throw new VmProbeException(
                    $"cannot open cgroup directory '{Target.CgroupPath}': {Errno.Name(errno)} ({Errno.Describe(errno)})",
                    "cgroup_open," + Errno.Name(errno),
                    PerfEventException.KindOf(errno));
            }

            // perf_event_open takes the cgroup fd in its pid argument (an int): the handle stays open until the finally
            // below, after the last open, so the number cannot be closed and reused meanwhile.
            pid = (int)cgroupDir.DangerousGetHandle();
            flags = PerfEventConstants.FlagPidCgroup;
        }

        try
        {
            var permissionError = 0;
            foreach (var slot in slots)
            {
                permissionError |= OpenSlot(slot, pid, flags);
            }

            for (var e = 0; e < status.Length; e++)
            {
                status[e] ??= new PerfEventStatus(Events[e], false, 0, "not opened");
            }

            if (permissionError != 0 && OpenFdCount == 0)
            {
                throw PerfEventException.FromErrno("perf_event_open", permissionError, Events.Count > 0 ? Events[0].CanonicalName : null, Target.ToString());
            }

            foreach (var slot in slots)
            {
                foreach (var group in slot.Groups)
                {
                    group.Enable();
                }
            }
        }
        finally
        {
            // The kernel holds its own reference on the cgroup once the events are open.
            cgroupDir?.Dispose();
        }
    }

    /// <summary>Opens the events on one CPU; returns a permission errno seen (or 0).</summary>
    private int OpenSlot(CpuSlot slot, int pid, ulong flags)
    {
        var permissionError = 0;
        PerfGroup? current = null;
        for (var e = 0; e < Events.Count; e++)
        {
            if (status[e] is { Supported: false })
            {
                // Already failed on another CPU for a reason that does not depend on the CPU.
                continue;
            }

            var attr = PerfGroup.BuildAttr(Events[e], options);
            int errno;
            if (current is not null)
            {
                errno = current.TryAdd(ref attr, e);
                if (errno == 0)
                {
                    MarkSupported(e);
                    continue;
                }

                ThrowIfFatal(errno, e, slot.Cpu);
                if (errno is not (Errno.EINVAL or Errno.ENOSPC or Errno.E2BIG))
                {
                    permissionError = MarkUnsupported(e, errno, permissionError);
                    continue;
                }

                // The group is full for the PMU (EINVAL/ENOSPC) or for the kernel's group read size (E2BIG): the event
                // leads a new group, which the events after it join, so N events need N / capacity groups, not N singles.
                attr = PerfGroup.BuildAttr(Events[e], options);
            }

            var group = new PerfGroup(pid, slot.Cpu, flags);
            errno = group.TryAdd(ref attr, e);
            if (errno == 0)
            {
                slot.Groups.Add(group);
                current = group;
                MarkSupported(e);
                continue;
            }

            group.Dispose();
            ThrowIfFatal(errno, e, slot.Cpu);
            permissionError = MarkUnsupported(e, errno, permissionError);
        }

        return permissionError;
    }

    private void SplitGroup(CpuSlot slot, int groupIndex)
    {
        var group = slot.Groups[groupIndex];
        var indexes = group.EventIndexes.ToArray();
        var pid = group.Pid;
        var flags = group.OpenFlags;
        if ((flags & PerfEventConstants.FlagPidCgroup) != 0)
        {
            // The cgroup fd was closed after opening; splitting a cgroup group needs it again.
            return;
        }

        group.Dispose();
        slot.Groups.RemoveAt(groupIndex);
        GroupSplits++;
        foreach (var e in indexes)
        {
            var attr = PerfGroup.BuildAttr(Events[e], options);
            var single = new PerfGroup(pid, slot.Cpu, flags);
            if (single.TryAdd(ref attr, e) == 0)
            {
                single.Enable();
                slot.Groups.Add(single);
            }
            else
            {
                single.Dispose();
            }
        }
    }

    private void ThrowIfFatal(int errno, int eventIndex, int cpu)
    {
        if (errno is Errno.ESRCH or Errno.EMFILE or Errno.ENFILE)
        {
            var target = Target.IsPerCpu ? $"{Target} cpu {cpu}" : Target.ToString();
            throw PerfEventException.FromErrno("perf_event_open", errno, Events[eventIndex].CanonicalName, target);
        }
    }

    private void MarkSupported(int e)
    {
        if (status[e] is not { Supported: true })
        {
            status[e] = new PerfEventStatus(Events[e], true);
        }
    }

    private int MarkUnsupported(int e, int errno, int permissionError)
    {
        if (status[e] is not { Supported: true })
        {
            var reason = errno switch
            {
                Errno.ENOENT or Errno.EOPNOTSUPP or Errno.ENODEV => "event not supported here: " + Errno.Describe(errno),
                Errno.EACCES or Errno.EPERM => "permission denied (root or CAP_PERFMON needed, or lower perf_event_paranoid)",
                _ => Errno.Describe(errno),
            };
            status[e] = new PerfEventStatus(Events[e], false, errno, reason);
        }

        return errno is Errno.EACCES or Errno.EPERM ? errno : permissionError;
    }

    private sealed class CpuSlot
    {
        public CpuSlot(int cpu, int eventCount)
        {
            Cpu = cpu;
            Counts = new PerfCount[eventCount];
        }

        public int Cpu { get; }

        public List<PerfGroup> Groups { get; } = new(1);

        public PerfCount[] Counts { get; }
    }
}
