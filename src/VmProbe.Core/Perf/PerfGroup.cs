using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VmProbe.Native;

namespace VmProbe.Perf;

/// <summary>Outcome of reading one group.</summary>
internal enum PerfGroupReadStatus
{
    Ok,

    /// <summary>The task is gone (read returned 0 bytes or ESRCH); earlier counts are kept.</summary>
    Gone,

    /// <summary>Enabled but never on the PMU (running 0 while enabled &gt; 0): the group is too big to schedule.</summary>
    NotScheduled,
}

/// <summary>
/// Events of one (pid, cpu) opened as one perf group: a leader and members with group_fd = leader, read in one read() with
/// PERF_FORMAT_GROUP|ID|TOTAL_TIME_ENABLED|TOTAL_TIME_RUNNING into a reused buffer; values are matched to events by kernel id.
/// </summary>
internal sealed class PerfGroup : IDisposable
{
    internal const ulong ReadFormat = PerfEventConstants.FormatGroup | PerfEventConstants.FormatId
        | PerfEventConstants.FormatTotalTimeEnabled | PerfEventConstants.FormatTotalTimeRunning;

    private readonly List<SafeFdHandle> handles = new(4);
    private readonly List<int> eventIndexes = new(4);
    private readonly List<ulong> ids = new(4);
    private byte[] buffer = Array.Empty<byte>();

    internal PerfGroup(int pid, int cpu, ulong openFlags)
    {
        Pid = pid;
        Cpu = cpu;
        OpenFlags = openFlags;
    }

    public int Pid { get; }

    public int Cpu { get; }

    internal ulong OpenFlags { get; }

    /// <summary>Number of events (= fds) in the group.</summary>
    public int Count => handles.Count;

    /// <summary>Indexes (into the counter set's event list) of the events in this group, leader first.</summary>
    public IReadOnlyList<int> EventIndexes => eventIndexes;

    internal static PerfEventAttr BuildAttr(PerfEventSpec spec, PerfOpenOptions options)
    {
        var attr = new PerfEventAttr
        {
            Type = spec.Type,
            Config = spec.Config,
            ReadFormat = ReadFormat,
            Flags = PerfAttrFlags.Disabled,
        };
        if (options.ExcludeUser)
        {
            attr.Flags |= PerfAttrFlags.ExcludeUser;
        }

        if (options.ExcludeKernel)
        {
            attr.Flags |= PerfAttrFlags.ExcludeKernel;
        }

        if (options.ExcludeHypervisor)
        {
            attr.Flags |= PerfAttrFlags.ExcludeHv;
        }

        if (options.ExcludeGuest)
        {
            attr.Flags |= PerfAttrFlags.ExcludeGuest;
        }

        if (options.ExcludeHost)
        {
            attr.Flags |= PerfAttrFlags.ExcludeHost;
        }

        if (options.ExcludeIdle)
        {
            attr.Flags |= PerfAttrFlags.ExcludeIdle;
        }

        return attr;
    }

    /// <summary>Opens one more event in the group (the first becomes the leader). Returns 0 or the errno.</summary>
    /// <remarks>
    /// The kernel's id of each event is not asked for (PERF_EVENT_IOC_ID, one syscall per event): the first read
    /// returns the ids in the order the events joined, leader first, which is where they are taken from (<see cref="Read"/>).
    /// </remarks>
    internal int TryAdd(ref PerfEventAttr attr, int eventIndex)
    {
        var groupFd = handles.Count == 0 ? null : handles[0];

        // Only the leader is created disabled: members follow it. A disabled member is not reliably enabled by the
        // leader's PERF_IOC_FLAG_GROUP enable (a system-wide cpu_clock member stays at 0), nor is an enabled member
        // that joins a leader created enabled: the leader starts disabled and the group is enabled once, whole.
        attr.Flags = handles.Count == 0 ? attr.Flags | PerfAttrFlags.Disabled : attr.Flags & ~PerfAttrFlags.Disabled;
        var errno = PerfEventFd.TryOpen(ref attr, Pid, Cpu, groupFd, OpenFlags, out var handle);
        if (errno != 0)
        {
            return errno;
        }

        handles.Add(handle!);
        eventIndexes.Add(eventIndex);
        return 0;
    }

    /// <summary>Enables all events of the group at once (PERF_EVENT_IOC_ENABLE with PERF_IOC_FLAG_GROUP on the leader).</summary>
    internal void Enable()
    {
        if (handles.Count > 0)
        {
            PerfEventFd.Enable(handles[0], group: true);
        }
    }

    /// <summary>
    /// Reads the group and stores each event's count at its event index in <paramref name="counts"/>. Counts never go backwards:
    /// a value below the one already stored is ignored.
    /// </summary>
    internal PerfGroupReadStatus Read(Span<PerfCount> counts)
    {
        if (handles.Count == 0)
        {
            return PerfGroupReadStatus.Ok;
        }

        // JIT constants: nothing computed per read.
        var headerSize = Unsafe.SizeOf<PerfGroupReadHeader>();
        var valueSize = Unsafe.SizeOf<PerfGroupReadValue>();
        var size = headerSize + (valueSize * handles.Count);
        if (buffer.Length != size)
        {
            // Sized at the first read, not per member added: a group of a thousand events would allocate 8 MB opening.
            buffer = new byte[size];
        }

        var n = PerfEventFd.Read(handles[0], buffer);
        if (n == 0 || n == -Errno.ESRCH)
        {
            return PerfGroupReadStatus.Gone;
        }

        if (n < 0)
        {
            throw PerfEventException.FromErrno("perf_event_read", -n, null, $"pid {Pid} cpu {Cpu}");
        }

        var data = buffer.AsSpan(0, n);
        if (n < headerSize)
        {
            throw new VmProbeException($"perf_event_read: short read of {n} bytes for pid {Pid} cpu {Cpu}", "perf_event_read,InvalidData", ProbeErrorKind.InvalidData);
        }

        var header = MemoryMarshal.Read<PerfGroupReadHeader>(data);
        var nr = (int)header.Count;
        var enabled = header.TimeEnabled;
        var running = header.TimeRunning;
        if (nr > handles.Count || n < headerSize + (valueSize * nr))
        {
            throw new VmProbeException($"perf_event_read: group of {handles.Count} returned {nr} values in {n} bytes", "perf_event_read,InvalidData", ProbeErrorKind.InvalidData);
        }

        var values = MemoryMarshal.Cast<byte, PerfGroupReadValue>(data.Slice(headerSize, valueSize * nr));
        if (ids.Count == 0)
        {
            // The first whole read names the events: leader first, then the members in the order they joined.
            for (var i = 0; i < nr; i++)
            {
                ids.Add(values[i].Id);
            }
        }

        for (var i = 0; i < nr; i++)
        {
            var value = values[i].Value;
            var id = values[i].Id;
            var slot = i < ids.Count && ids[i] == id ? i : ids.IndexOf(id);
            if (slot < 0)
            {
                continue;
            }

            ref var target = ref counts[eventIndexes[slot]];
            if (value >= target.Raw)
            {
                target = PerfCount.FromRaw(value, enabled, running);
            }
        }

        return running == 0 && enabled > 0 && handles.Count > 1 ? PerfGroupReadStatus.NotScheduled : PerfGroupReadStatus.Ok;
    }

    public void Dispose()
    {
        // Members first, then the leader.
        for (var i = handles.Count - 1; i >= 0; i--)
        {
            handles[i].Dispose();
        }

        handles.Clear();
        eventIndexes.Clear();
        ids.Clear();
    }
}
