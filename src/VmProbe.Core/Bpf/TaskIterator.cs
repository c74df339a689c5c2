using System.Runtime.InteropServices;
using System.Text;
using VmProbe.Native;

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
}

/// <summary>
/// Per-thread scheduler, fault and guest-time data of chosen processes in one read per cycle, from a BPF task iterator
/// (programs/tasks.bpf.c, Linux 5.8+): <see cref="SetProcesses"/> says which processes (the <c>tgids</c> map),
/// <see cref="Read"/> creates an iterator fd, reads it to the end into a reused buffer and closes it, then
/// <see cref="Threads"/> gives each process's records. The same walk reports the leaders of other processes whose
/// executable is named like QEMU (<see cref="Candidates"/>) and how many executables it could not name
/// (<see cref="UnreadableCount"/>). The program stays loaded and attached until Dispose. Not thread-safe.
/// </summary>
internal sealed class TaskIterator : IDisposable
{
    public const string ObjectName = "tasks";
    public const string ProgramName = "dump_tasks";
    public const string ProcessMap = "tgids";

    private readonly BpfObject _object;
    private readonly BpfLinkHandle _link;
    private readonly BpfMap _tgids;
    private readonly HashSet<int> _inMap = new();
    private readonly HashSet<int> _wanted = new();
    private readonly List<int> _stale = new();
    private readonly Dictionary<int, (int Start, int Count)> _ranges = new();
    private byte[] _buffer = new byte[64 * TaskRecord.Size];
    private TaskRecord[] _candidates = new TaskRecord[8];
    private int _length;
    private int _threadRecords;
    private int _candidateCount;

    private TaskIterator(BpfObject obj, BpfLinkHandle link)
    {
        _object = obj;
        _link = link;
        _tgids = obj.Map(ProcessMap);
    }

    /// <summary>Processes the map can hold; more are refused by <see cref="SetProcesses"/> (their callers read files).</summary>
    public uint Capacity => _tgids.MaxEntries;

    /// <summary>The loaded object (tests look at its fds).</summary>
    public BpfObject Object => _object;

    /// <summary>Bytes of thread records the last <see cref="Read"/> returned.</summary>
    public int LastReadBytes => _threadRecords * TaskRecord.Size;

    /// <summary>
    /// Leaders of processes not in the map whose executable is named like QEMU, from the last <see cref="Read"/>, by
    /// pid (kind <see cref="TaskRecordKind.Candidate"/>).
    /// </summary>
    public ReadOnlySpan<TaskRecord> Candidates => _candidates.AsSpan(0, _candidateCount);

    /// <summary>Leaders not in the map whose executable's name the last <see cref="Read"/> could not read.</summary>
    public int UnreadableCount { get; private set; }

    /// <summary>Loads and attaches the iterator; throws <see cref="BpfUnavailableException"/> or <see cref="BpfException"/>.</summary>
    public static TaskIterator Open(uint? capacity = null, IProbeLog? log = null)
    {
        var sizes = capacity is { } entries ? new Dictionary<string, uint> { [ProcessMap] = entries } : null;
        var obj = BpfObject.Load(ObjectName, BpfObject.LoadEmbedded(ObjectName), sizes, log);
        try
        {
            return new TaskIterator(obj, obj.AttachIterator(ProgramName));
        }
        catch
        {
            obj.Dispose();
            throw;
        }
    }

    /// <summary>Whether <paramref name="tgid"/> is in the map, so that <see cref="Read"/> reports its threads.</summary>
    public bool Tracks(int tgid) => _inMap.Contains(tgid);

    /// <summary>
    /// Makes the map hold exactly <paramref name="tgids"/> (only the changes are written). A process that does not fit
    /// (map full) is left out: <see cref="Tracks"/> is false for it.
    /// </summary>
    public void SetProcesses(IEnumerable<int> tgids)
    {
        _wanted.Clear();
        foreach (var tgid in tgids)
        {
            if (tgid > 0)
            {
                _wanted.Add(tgid);
            }
        }

        foreach (var tgid in _inMap)
        {
            if (!_wanted.Contains(tgid))
            {
                _stale.Add(tgid);
            }
        }

        foreach (var tgid in _stale)
        {
            _tgids.Delete((uint)tgid);
            _inMap.Remove(tgid);
        }

        _stale.Clear();
        foreach (var tgid in _wanted)
        {
            if (_inMap.Count < Capacity && !_inMap.Contains(tgid))
            {
                _tgids.Update((uint)tgid, (byte)1);
                _inMap.Add(tgid);
            }
        }
    }

    /// <summary>
    /// Runs the iterator once: every thread of the processes in the map, and the candidates. Returns the count of
    /// thread records.
    /// </summary>
    public int Read()
    {
        ObjectDisposedException.ThrowIf(_link.IsClosed, this);
        _ranges.Clear();
        _length = _threadRecords = _candidateCount = UnreadableCount = 0; // a failed read leaves no records
        _length = BpfIteratorRead.Run(_link, ref _buffer, $"{ObjectName}/{ProgramName}");
        return Index();
    }

    /// <summary>The records of <paramref name="tgid"/> from the last <see cref="Read"/>, by thread id; empty when it has none.</summary>
    public ReadOnlySpan<TaskRecord> Threads(int tgid) =>
        _ranges.TryGetValue(tgid, out var range) ? Records().Slice(range.Start, range.Count) : ReadOnlySpan<TaskRecord>.Empty;

    /// <summary>Every record of the last <see cref="Read"/>, by (tgid, tid).</summary>
    public ReadOnlySpan<TaskRecord> All => Records();

    public void Dispose() => _object.Dispose();

    private Span<TaskRecord> Records() => MemoryMarshal.Cast<byte, TaskRecord>(_buffer.AsSpan(0, _threadRecords * TaskRecord.Size));

    private static bool IsSorted(ReadOnlySpan<TaskRecord> records)
    {
        for (var i = 1; i < records.Length; i++)
        {
            ref readonly var a = ref records[i - 1];
            ref readonly var b = ref records[i];
            if (a.Tgid > b.Tgid || (a.Tgid == b.Tgid && a.Tid >= b.Tid))
            {
                return false;
            }
        }

        return true;
    }

    // The kernel writes whole records; anything else is a program and reader out of step: refuse rather than misread.
    private int Index()
    {
        if (_length % TaskRecord.Size != 0)
        {
            var length = _length;
            _length = 0;
            throw new BpfException($"task iterator ({ObjectName}/{ProgramName}) returned {length} bytes, not whole {TaskRecord.Size}-byte records",
                "bpf,layout", ProbeErrorKind.InvalidData);
        }

        Partition(MemoryMarshal.Cast<byte, TaskRecord>(_buffer.AsSpan(0, _length)));
        var records = Records();
        if (!IsSorted(records))
        {
            // The kernel walks tasks by tid: a process' threads come out interleaved with others' once it made some late.
            records.Sort(static (a, b) => a.Tgid != b.Tgid ? a.Tgid.CompareTo(b.Tgid) : a.Tid.CompareTo(b.Tid));
        }

        var start = 0;
        for (var i = 1; i <= records.Length; i++)
        {
            if (i == records.Length || records[i].Tgid != records[start].Tgid)
            {
                var tgid = (int)records[start].Tgid;
                if (tgid > 0 && records[start].Tid > 0 && _inMap.Contains(tgid))
                {
                    _ranges[tgid] = (start, i - start);
                }

                start = i;
            }
        }

        return records.Length;
    }

    // Thread records stay at the front of the buffer in their order; candidates are copied out (pid order, as the
    // kernel walks leaders by pid), unreadable ones counted.
    private void Partition(Span<TaskRecord> all)
    {
        var threads = 0;
        for (var i = 0; i < all.Length; i++)
        {
            ref readonly var record = ref all[i];
            switch (record.Kind)
            {
                case TaskRecordKind.Thread:
                    if (threads != i)
                    {
                        all[threads] = record;
                    }

                    threads++;
                    break;
                case TaskRecordKind.Candidate:
                    if (_candidateCount == _candidates.Length)
                    {
                        Array.Resize(ref _candidates, _candidates.Length * 2);
                    }

                    _candidates[_candidateCount++] = record;
                    break;
                default:
                    UnreadableCount++;
                    break;
            }
        }

        _threadRecords = threads;
    }
}
