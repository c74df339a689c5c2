using System.Runtime.InteropServices;
using System.Text;

namespace VmProbe.Bpf;

/// <summary>
/// One thread as programs/tasks.bpf.c writes it (struct task_record, 104 bytes): what /proc/PID/task/TID/schedstat
/// and stat give, times in ns; or, by <see cref="Kind"/>, a process leader the walk found for the discovery.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct TaskRecord
{
    public const int Size = 104;

    public uint Tgid;
    public uint Tid;

    /// <summary>se.sum_exec_runtime (schedstat field 1).</summary>
    public ulong RunNanoseconds;

    /// <summary>sched_info.run_delay (schedstat field 2).</summary>
    public ulong WaitNanoseconds;

    /// <summary>sched_info.pcount (schedstat field 3).</summary>
    public ulong Timeslices;
    public ulong MinorFaults;
    public ulong MajorFaults;

    /// <summary>gtime (stat field 43 is this in USER_HZ ticks).</summary>
    public ulong GuestNanoseconds;

    /// <summary>start_boottime (stat field 22 is this in USER_HZ ticks).</summary>
    public ulong StartNanoseconds;

    /// <summary>Raw tick-sampled utime; stat's field 14 is scaled to the run time (cputime_adjust), so it differs.</summary>
    public ulong UserNanoseconds;
    public ulong SystemNanoseconds;
    public fixed byte Comm[16];

    /// <summary>What the record is (RECORD_* in the C); a candidate or unreadable record has only tgid, tid, start and comm.</summary>
    public TaskRecordKind Kind;
    public uint Reserved;

    /// <summary>Copies the thread's 16 name bytes (NUL-padded) into <paramref name="into"/>.</summary>
    public readonly void CopyComm(Span<byte> into)
    {
        fixed (byte* comm = Comm)
        {
            new ReadOnlySpan<byte>(comm, 16).CopyTo(into);
        }
    }

    /// <summary>The thread's name (up to the first NUL), as /proc/PID/task/TID/comm gives it without the newline.</summary>
    public readonly string CommText()
    {
        fixed (byte* comm = Comm)
        {
            var bytes = new ReadOnlySpan<byte>(comm, 16);
            var end = bytes.IndexOf((byte)0);
            return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
        }
    }
}

/// <summary>What a <see cref="TaskRecord"/> is (task_record.kind).</summary>
internal enum TaskRecordKind : uint
{
    /// <summary>A thread of a process in the <c>tgids</c> map.</summary>
    Thread = 0,

    /// <summary>A process leader not in the map whose executable's basename is what QEMU's is named.</summary>
    Candidate = 1,

    /// <summary>A process leader not in the map whose executable's name could not be read.</summary>
    Unreadable = 2,

    /// <summary>The last record of a run of the walk of tracked processes (<see cref="TaskWalk"/>): where the next begins.</summary>
    End = 3,
}
