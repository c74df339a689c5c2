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

    /// <summary>Threads (or, in the leaders' pass, leaders) of the start the previous run got through.</summary>
    public uint Skip;

    /// <summary>1: the run ends with the leaders' pass (the candidates); 0: after the processes.</summary>
    public uint Leaders;

    /// <summary>The program's own counters during a run (records written, threads visited); user space leaves them.</summary>
    public uint Written;

    public uint Seen;

    /// <summary>Execs of programs named like QEMU, counted by <c>count_qemu_exec</c>.</summary>
    public uint Execs;

    public uint Reserved;
}

/// <summary>
/// The walk of tracked processes only (programs/tasks.bpf.c's <c>dump_tracked</c>, Linux 6.7+): the process list and
/// each run's start live in the <c>walk</c> map, mmapped, so that neither costs a bpf() call. A run writes at most a seq
/// buffer's worth of records and ends with a <see cref="TaskRecordKind.End"/> record saying where the next one begins;
/// <see cref="Read"/> runs it until that record says done. The pass over every process leader, which finds new QEMUs,
/// is made only when <see cref="LeadersDue"/>: after an exec of a program named like QEMU (<c>count_qemu_exec</c>), after
/// a pass that could not name a leader, and every <see cref="LeaderPassEvery"/> reads regardless. Not thread-safe.
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

    private readonly MappedMemoryHandle _mapped;
    private readonly TaskWalkHeader* _header;
    private readonly uint* _tgids;
    private int _readsSincePass = int.MaxValue;
    private uint _execsAtPass;
    private int _unreadableAtPass;

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
    public bool LeadersDue => !CountsExecs || _readsSincePass >= LeaderPassEvery || _unreadableAtPass > 0
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
        var length = 0;
        uint start = 0, skip = 0;
        for (LastRuns = 1; ; LastRuns++)
        {
            Volatile.Write(ref _header->Start, start);
            Volatile.Write(ref _header->Skip, skip);
            var end = BpfIteratorRead.Run(link, ref buffer, length, what);
            if (end - length < TaskRecord.Size || (end - length) % TaskRecord.Size != 0)
            {
                throw Refused(what, $"a run returned {end - length} bytes, not whole {TaskRecord.Size}-byte records ending with an end record");
            }

            var last = MemoryMarshal.Read<TaskRecord>(buffer.AsSpan(end - TaskRecord.Size));
            if (last.Kind != TaskRecordKind.End)
            {
                throw Refused(what, $"a run's last record is of kind {(uint)last.Kind}, not an end record");
            }

            length = end - TaskRecord.Size;
            if (last.Reserved != 0)
            {
                return length;
            }

            // Each run must get further, or a program out of step with this reader would loop forever.
            if (last.Tgid < start || (last.Tgid == start && last.Tid <= skip))
            {
                throw Refused(what, $"a run ended at ({last.Tgid}, {last.Tid}), not past its start ({start}, {skip})");
            }

            (start, skip) = (last.Tgid, last.Tid);
        }
    }

    /// <summary>After a read with the leaders' pass: how many leaders it could not name (a next read makes the pass again).</summary>
    public void PassedWith(int unreadable) => _unreadableAtPass = unreadable;

    public void Dispose() => _mapped.Dispose();

    private static BpfException Refused(string what, string why) =>
        new($"task iterator ({what}): {why}", "bpf,layout", ProbeErrorKind.InvalidData);
}
