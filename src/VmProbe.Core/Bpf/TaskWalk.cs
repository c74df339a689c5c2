using System.Runtime.InteropServices;
using VmProbe.Native;

namespace VmProbe.Bpf;

/// <summary>The head of programs/tasks.bpf.c's <c>struct walk</c> (32 bytes); the process ids follow it.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TaskWalkHeader
{
    /// <summary>Processes in the list that follows.</summary>
    public uint Count;

    /// <summary>The list index the next run begins at; <see cref="Count"/> for the leaders' pass.</summary>
    public uint Start;

    /// <summary>The tid (the leader's, in the leaders' pass) the previous run wrote last; 0: from the first.</summary>
    public uint After;

    /// <summary>1: the run ends with the leaders' pass (the candidates); 0: after the processes.</summary>
    public uint Leaders;

    /// <summary>The program's own state during a run (records written, whether <see cref="After"/> was met, the last written); user space leaves them.</summary>
    public uint Written;

    public uint Found;

    public uint Last;

    /// <summary>Execs of programs named like QEMU, counted by <c>count_qemu_exec</c>.</summary>
    public uint Execs;
}

/// <summary>
/// The walk of tracked processes only (programs/tasks.bpf.c's <c>dump_tracked</c>, Linux 6.7+): the process list and
/// each run's start live in the <c>walk</c> map, mmapped, so that neither costs a bpf() call. A run writes at most a seq
/// buffer's worth of records and ends with a <see cref="TaskRecordKind.End"/> record saying where the next one begins;
/// <see cref="Read"/> runs it until that record says done. The pass over every process leader, which finds new QEMUs,
/// is made only when <see cref="LeadersDue"/>: after an exec of a program named like QEMU (<c>count_qemu_exec</c>), after
/// a read in which a tracked process had no thread, after a pass that could not name a leader, and every
/// <see cref="LeaderPassEvery"/> reads regardless. Not thread-safe.
/// </summary>
internal sealed unsafe class TaskWalk : IDisposable
{
    public const string MapName = "walk";
    public const string ProgramName = "dump_tracked";

    /// <summary>WALK_CAPACITY in the C: processes the list holds.</summary>
    public const int Capacity = 16384;

    /// <summary>Reads between two leaders' passes at most (a QEMU exec'd under a name not like QEMU's is found then).</summary>
    public const int LeaderPassEvery = 64;

    public const string ExecProgramName = "count_qemu_exec";

    private const int Bytes = 32 + (4 * Capacity);

    // Far more than any list needs (a run holds 256 records); reached only by a run that keeps meeting exited threads.
    private const int MaxRuns = 4 * Capacity;

    private readonly MappedMemoryHandle _mapped;
    private readonly TaskWalkHeader* _header;
    private readonly uint* _tgids;
    private int _readsSincePass = int.MaxValue;
    private uint _execsAtPass;
    private int _unreadableAtPass;
    private bool _trackedGone;

    private TaskWalk(MappedMemoryHandle mapped)
    {
        _mapped = mapped;
        _header = (TaskWalkHeader*)mapped.DangerousGetHandle();
        _tgids = (uint*)(_header + 1);
    }

    /// <summary>Runs the last <see cref="Read"/> took (a run holds up to 256 records).</summary>
    public int LastRuns { get; private set; }

    /// <summary>Maps the object's <c>walk</c> map; null when the kernel refuses the mapping.</summary>
    public static TaskWalk? TryMap(BpfObject obj) =>
        obj.Map(MapName).TryMapValues(out _, Bytes) is { } mapped ? new TaskWalk(mapped) : null;

    /// <summary>Whether execs are counted (<see cref="ExecProgramName"/> attached); without, every read makes the pass.</summary>
    public bool CountsExecs { get; set; }

    /// <summary>Whether the next <see cref="Read"/> makes the leaders' pass.</summary>
    public bool LeadersDue => !CountsExecs || _readsSincePass >= LeaderPassEvery || _unreadableAtPass > 0 || _trackedGone
        || Volatile.Read(ref _header->Execs) != _execsAtPass;

    /// <summary>Makes the list hold <paramref name="tgids"/> (at most <see cref="Capacity"/>; the caller checks).</summary>
    public void SetProcesses(IReadOnlyCollection<int> tgids)
    {
        ObjectDisposedException.ThrowIf(_mapped.IsClosed, this);
        Volatile.Write(ref _header->Count, 0);
        var n = 0;
        foreach (var tgid in tgids)
        {
            if (n == Capacity)
            {
                break;
            }

            _tgids[n++] = (uint)tgid;
        }

        Volatile.Write(ref _header->Count, (uint)n);
    }

    /// <summary>
    /// Runs the program from the start of the list until it is done, the records of every run one after the other in
    /// <paramref name="buffer"/> (the end records dropped); returns their length in bytes.
    /// </summary>
    public int Read(BpfLinkHandle link, ref byte[] buffer, string what, bool leaders)
    {
        ObjectDisposedException.ThrowIf(_mapped.IsClosed, this);
        if (leaders)
        {
            _execsAtPass = Volatile.Read(ref _header->Execs); // before the pass: an exec during it makes the next one
            _readsSincePass = 0;
        }
        else if (_readsSincePass < int.MaxValue)
        {
            _readsSincePass++;
        }

        Volatile.Write(ref _header->Leaders, leaders ? 1U : 0U);
        return ReadFrom(link, ref buffer, 0, 0, 0, what);
    }

    /// <summary>
    /// The runs from list index <paramref name="start"/>, after thread <paramref name="after"/>, appended to
    /// <paramref name="buffer"/> from <paramref name="length"/>; returns the length then (a test resumes a read here).
    /// </summary>
    internal int ReadFrom(BpfLinkHandle link, ref byte[] buffer, int length, uint start, uint after, string what)
    {
        for (LastRuns = 1; ; LastRuns++)
        {
            var runStart = length;
            length = RunOnce(link, ref buffer, length, start, after, what, out var last);
            if (last.Reserved != 0)
            {
                return length;
            }

            // Each run must write something or get to a later process, or a program out of step with this reader (or a
            // process whose threads keep exiting under it) would keep it here.
            if (last.Tgid < start || (last.Tgid == start && length == runStart) || LastRuns == MaxRuns)
            {
                throw Refused(what, $"run {LastRuns} ended at ({last.Tgid}, {last.Tid}), not past its start ({start}, {after})");
            }

            (start, after) = (last.Tgid, last.Tid);
        }
    }

    /// <summary>One run: its records appended from <paramref name="length"/> (the end record dropped, given in <paramref name="last"/>).</summary>
    internal int RunOnce(BpfLinkHandle link, ref byte[] buffer, int length, uint start, uint after, string what, out TaskRecord last)
    {
        ObjectDisposedException.ThrowIf(_mapped.IsClosed, this);
        Volatile.Write(ref _header->Start, start);
        Volatile.Write(ref _header->After, after);
        var end = BpfIteratorRead.Run(link, ref buffer, length, what);
        if (end - length < TaskRecord.Size || (end - length) % TaskRecord.Size != 0)
        {
            throw Refused(what, $"a run returned {end - length} bytes, not whole {TaskRecord.Size}-byte records ending with an end record");
        }

        last = MemoryMarshal.Read<TaskRecord>(buffer.AsSpan(end - TaskRecord.Size));
        if (last.Kind != TaskRecordKind.End)
        {
            throw Refused(what, $"a run's last record is of kind {(uint)last.Kind}, not an end record");
        }

        return end - TaskRecord.Size;
    }

    /// <summary>After a read with the leaders' pass: how many leaders it could not name (a next read makes the pass again).</summary>
    public void PassedWith(int unreadable) => _unreadableAtPass = unreadable;

    /// <summary>
    /// After a read: whether a tracked process had no thread. The next read makes the pass: a QEMU that forks after its
    /// exec (<c>-daemonize</c>) goes on in a child no exec announced.
    /// </summary>
    public void TrackedWent(bool gone) => _trackedGone = gone;

    public void Dispose() => _mapped.Dispose();

    private static BpfException Refused(string what, string why) =>
        new($"task iterator ({what}): {why}", "bpf,layout", ProbeErrorKind.InvalidData);
}
