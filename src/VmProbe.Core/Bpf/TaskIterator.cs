using System.Runtime.InteropServices;
using VmProbe.Native;

namespace VmProbe.Bpf;

/// <summary>
/// Per-thread scheduler, fault and guest-time data of chosen processes in one read per cycle, from a BPF task iterator
/// (programs/tasks.bpf.c): where the kernel has open-coded task iterators (Linux 6.7+) the program visits only the threads
/// of those processes and the process leaders (<see cref="TaskWalk"/>), elsewhere (Linux 5.8+) every task on the host.
/// <see cref="SetProcesses"/> says which processes (the <c>tgids</c> map),
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
    private readonly TaskWalk? _walk;
    private readonly BpfMap _tgids;
    private readonly HashSet<int> _inMap = new();
    private readonly HashSet<int> _wanted = new();
    private readonly List<int> _stale = new();
    private readonly Dictionary<int, (int Start, int Count)> _ranges = new();
    private byte[] _buffer = new byte[64 * TaskRecord.Size];
    private TaskRecord[] _candidates = new TaskRecord[8];
    private TaskRecord[] _passCandidates = Array.Empty<TaskRecord>();
    private int _length;
    private int _threadRecords;
    private int _candidateCount;

    private TaskIterator(BpfObject obj, BpfLinkHandle link, TaskWalk? walk)
    {
        _object = obj;
        _link = link;
        _walk = walk;
        _tgids = obj.Map(ProcessMap);
    }

    /// <summary>Processes the map can hold; more are refused by <see cref="SetProcesses"/> (their callers read files).</summary>
    public uint Capacity => _walk is null ? _tgids.MaxEntries : Math.Min(_tgids.MaxEntries, TaskWalk.Capacity);

    /// <summary>Whether each read visits every task on the host (a kernel without open-coded task iterators).</summary>
    public bool WalksEveryTask => _walk is null;

    /// <summary>Iterator runs the last <see cref="Read"/> took: 1 for the walk of every task.</summary>
    public int LastReadRuns => _walk?.LastRuns ?? 1;

    /// <summary>What a read visits, for the log.</summary>
    public string Description => _walk is null
        ? "every task on the host each read (no open-coded task iterators in this kernel)"
        : "the threads of the tracked processes and the process leaders each read";

    /// <summary>The loaded object (tests look at its fds).</summary>
    public BpfObject Object => _object;

    /// <summary>The walk of tracked processes and its link, where it is loaded (tests drive single runs).</summary>
    internal (TaskWalk Walk, BpfLinkHandle Link)? TrackedWalk => _walk is null ? null : (_walk, _link);

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
    /// <param name="everyTask">Load the walk of every task even where the kernel could walk only the tracked processes.</param>
    public static TaskIterator Open(uint? capacity = null, IProbeLog? log = null, bool everyTask = false)
    {
        var sizes = capacity is { } entries ? new Dictionary<string, uint> { [ProcessMap] = entries } : null;
        var elf = BpfObject.LoadEmbedded(ObjectName);
        if (!everyTask)
        {
            try
            {
                return Open(elf, sizes, log, tracked: true);
            }
            catch (BpfException error)
            {
                // Load checked availability first: what fails here is this program (a verifier's EACCES included).
                if (log is not null && log.IsEnabled(LogLevel.Debug))
                {
                    log.Write(LogLevel.Debug, $"procfs: the task iterator over tracked processes does not load here ({error.Message}); walking every task");
                }
            }
        }

        return Open(elf, sizes, log, tracked: false);
    }

    private static TaskIterator Open(byte[] elf, Dictionary<string, uint>? sizes, IProbeLog? log, bool tracked)
    {
        var leaveOut = tracked ? new[] { ProgramName } : new[] { TaskWalk.ProgramName, TaskWalk.ExecProgramName, TaskWalk.MapName };
        var obj = BpfObject.Load(ObjectName, elf, sizes, log, leaveOut);
        TaskWalk? walk = null;
        try
        {
            if (tracked)
            {
                walk = TaskWalk.TryMap(obj) ?? throw new BpfException($"{ObjectName}: cannot mmap the {TaskWalk.MapName} map", "bpf,mmap", ProbeErrorKind.NotSupported);
            }

            // The walk of tracked processes runs once per read: attached to one task, this process' main thread, which
            // lives as long as the process (pid 1 is not always visible to the iterator).
            var link = tracked ? obj.AttachIterator(TaskWalk.ProgramName, onlyThread: Environment.ProcessId) : obj.AttachIterator(ProgramName);
            if (walk is not null)
            {
                walk.CountsExecs = TryAttach(obj, TaskWalk.ExecProgramName, log);
            }

            return new TaskIterator(obj, link, walk);
        }
        catch
        {
            walk?.Dispose();
            obj.Dispose();
            throw;
        }
    }

    // Without the exec count every read makes the leaders' pass: slower, not wrong.
    private static bool TryAttach(BpfObject obj, string program, IProbeLog? log)
    {
        try
        {
            obj.Attach(program);
            return true;
        }
        catch (BpfException error)
        {
            if (log is not null && log.IsEnabled(LogLevel.Debug))
            {
                log.Write(LogLevel.Debug, $"procfs: {ObjectName}/{program} does not attach ({error.Message}); every read looks at every process leader");
            }

            return false;
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

        var changed = _stale.Count > 0;
        _stale.Clear();
        foreach (var tgid in _wanted)
        {
            if (_inMap.Count < Capacity && !_inMap.Contains(tgid))
            {
                _tgids.Update((uint)tgid, (byte)1);
                _inMap.Add(tgid);
                changed = true;
            }
        }

        if (changed)
        {
            _walk?.SetProcesses(_inMap);
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
        var leaders = _walk?.LeadersDue ?? true;
        _length = _walk is null
            ? BpfIteratorRead.Run(_link, ref _buffer, $"{ObjectName}/{ProgramName}")
            : _walk.Read(_link, ref _buffer, $"{ObjectName}/{TaskWalk.ProgramName}", leaders);
        var count = Index();
        LastReadPassedLeaders = leaders;
        if (_walk is null)
        {
            return count;
        }

        if (leaders)
        {
            _walk.PassedWith(UnreadableCount);
            _passCandidates = _candidates.AsSpan(0, _candidateCount).ToArray();
        }
        else
        {
            // No QEMU was exec'd since the pass: its candidates stand, but for those tracked since (for good: threads now).
            if (_candidates.Length < _passCandidates.Length)
            {
                Array.Resize(ref _candidates, _passCandidates.Length);
            }

            var kept = 0;
            foreach (var candidate in _passCandidates)
            {
                if (!_inMap.Contains((int)candidate.Tgid))
                {
                    _candidates[_candidateCount++] = _passCandidates[kept++] = candidate;
                }
            }

            if (kept < _passCandidates.Length)
            {
                Array.Resize(ref _passCandidates, kept);
            }
        }

        var gone = false;
        foreach (var tgid in _inMap)
        {
            gone |= !_ranges.ContainsKey(tgid);
        }

        _walk.TrackedWent(gone);
        return count;
    }

    /// <summary>Whether the last <see cref="Read"/> looked at every process leader (else its candidates are the last such read's).</summary>
    public bool LastReadPassedLeaders { get; private set; }

    /// <summary>The records of <paramref name="tgid"/> from the last <see cref="Read"/>, by thread id; empty when it has none.</summary>
    public ReadOnlySpan<TaskRecord> Threads(int tgid) =>
        _ranges.TryGetValue(tgid, out var range) ? Records().Slice(range.Start, range.Count) : ReadOnlySpan<TaskRecord>.Empty;

    /// <summary>Every record of the last <see cref="Read"/>, by (tgid, tid).</summary>
    public ReadOnlySpan<TaskRecord> All => Records();

    public void Dispose()
    {
        _walk?.Dispose();
        _object.Dispose();
    }

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
            // The walk of every task goes by tid: a process' threads come out interleaved with others' once it made
            // some late. The walk of tracked processes goes by the list, each process' threads in creation order.
            records.Sort(static (a, b) => a.Tgid != b.Tgid ? a.Tgid.CompareTo(b.Tgid) : a.Tid.CompareTo(b.Tid));
            _threadRecords = Deduplicate(records);
            records = Records();
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
                case TaskRecordKind.Unreadable:
                    UnreadableCount++;
                    break;
                default:
                    throw new BpfException($"task iterator ({ObjectName}) wrote a record of kind {(uint)record.Kind}", "bpf,layout", ProbeErrorKind.InvalidData);
            }
        }

        _threadRecords = threads;
        var candidates = _candidates.AsSpan(0, _candidateCount);
        if (!IsSorted(candidates))
        {
            candidates.Sort(static (a, b) => a.Tgid.CompareTo(b.Tgid)); // the leaders' walk goes in creation order
            _candidateCount = Deduplicate(candidates);
        }
    }

    // A run of the tracked walk that resumes after a thread which exited meanwhile writes that process again from its
    // first thread: sorted records keep the first of each (tgid, tid). Returns how many are left at the front.
    private static int Deduplicate(Span<TaskRecord> sorted)
    {
        var kept = 0;
        for (var i = 0; i < sorted.Length; i++)
        {
            if (kept > 0 && sorted[kept - 1].Tgid == sorted[i].Tgid && sorted[kept - 1].Tid == sorted[i].Tid)
            {
                continue;
            }

            sorted[kept++] = sorted[i];
        }

        return kept;
    }
}
