using System.Globalization;
using System.Runtime.InteropServices;
using VmProbe.Native;

namespace VmProbe.Procfs;

/// <summary>
/// Typed access to the procfs files VmProbe reads, under a root directory (default <c>/</c>; tests point it at a
/// fixture tree whose <c>proc/</c> mirrors /proc). Readers return null/false when the file, process or thread does
/// not exist (a VM that stopped, a thread that exited) and throw <see cref="ProcfsException"/> for anything else.
/// Holds one reusable buffer: not thread-safe, use one instance per collecting thread.
/// </summary>
internal sealed partial class ProcFs : IDisposable
{
    // The hot per-thread readers build their path on the stack; the string is made only if parsing fails.
    private const string PathPlaceholder = "<task file>";

    private static double _clockTicks; // 0 until read: a double is read and written whole, unlike a double? (set-ups run on their own thread)
    private readonly ProcFileReader _reader = new();

    public ProcFs(string root = "/")
    {
        Root = root;
        ProcDirectory = Path.Combine(root, "proc");
        _hostPaths = new[] { "stat", "schedstat", "meminfo", "loadavg" }
            .Concat(PressureStall.Resources.Select(resource => Path.Combine("pressure", resource)))
            .Select(file => Path.Combine(ProcDirectory, file))
            .ToArray();
        _hostFiles = new KeptProcFile?[_hostPaths.Length];
        _hostFileMissing = new bool[_hostPaths.Length];
    }

    public string Root { get; }

    /// <summary><c>{Root}/proc</c>.</summary>
    public string ProcDirectory { get; }

    /// <summary>USER_HZ, the unit of /proc/stat and /proc/PID/stat times: sysconf(_SC_CLK_TCK), 100 on every Linux ABI.</summary>
    public static double ClockTicksPerSecond => _clockTicks > 0 ? _clockTicks : _clockTicks = QueryClockTicks();

    /// <summary>
    /// Whether this process runs in a PID namespace other than the host's: eBPF programs see the host's ids, which then do
    /// not match this process's /proc. Told by /proc/self/ns/pid, whose inode for the initial namespace is a kernel
    /// constant (PROC_PID_INIT_INO); NSpid in /proc/self/status would not do, a container's own /proc shows one level.
    /// </summary>
    public static bool InChildPidNamespace()
    {
        try
        {
            var link = new FileInfo("/proc/self/ns/pid").LinkTarget;
            return link is not null && IsChildPidNamespaceLink(link);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The same, from the target of a /proc/PID/ns/pid link (<c>pid:[4026531836]</c> for the host's).</summary>
    internal static bool IsChildPidNamespaceLink(string link) => link != "pid:[4026531836]";

    /// <summary>The reader, for callers that parse a file this class has no method for.</summary>
    public ProcFileReader Reader => _reader;

    public HostProcStat? ReadStat(bool includePerCpu = false)
    {
        return TryReadHostFile(StatFile) ? HostProcStat.Parse(_reader.Content, _hostPaths[StatFile], ClockTicksPerSecond, includePerCpu) : null;
    }

    /// <summary>/proc/schedstat summed over CPUs; null where the kernel has no CONFIG_SCHEDSTATS file.</summary>
    public SchedStat? ReadHostSchedStat()
    {
        return TryReadHostFile(SchedStatFile) ? SchedStat.ParseHost(_reader.Content, _hostPaths[SchedStatFile], out _) : null;
    }

    public MemInfo? ReadMemInfo()
    {
        return TryReadHostFile(MemInfoFile) ? MemInfo.Parse(_reader.Content, _hostPaths[MemInfoFile]) : null;
    }

    public LoadAverage? ReadLoadAverage()
    {
        return TryReadHostFile(LoadAvgFile) ? LoadAverage.Parse(_reader.Content, _hostPaths[LoadAvgFile]) : null;
    }

    /// <summary><paramref name="resource"/> is cpu, memory or io; null where the kernel has no PSI.</summary>
    public PressureStall? ReadPressure(string resource)
    {
        var index = Array.IndexOf(PressureStall.Resources, resource);
        if (index < 0)
        {
            var path = Path.Combine(ProcDirectory, "pressure", resource);
            return _reader.TryRead(path) ? PressureStall.Parse(_reader.Content, resource, path) : null;
        }

        return TryReadHostFile(FirstPressureFile + index) ? PressureStall.Parse(_reader.Content, resource, _hostPaths[FirstPressureFile + index]) : null;
    }

    /// <summary>/proc/PID/task/TID/schedstat; false when the thread is gone. Allocates nothing.</summary>
    public bool TryReadTaskSchedStat(int pid, int tid, out SchedStat stat)
    {
        Span<char> path = stackalloc char[ProcDirectory.Length + 64];
        if (!path.TryWrite(CultureInfo.InvariantCulture, $"{ProcDirectory}/{pid}/task/{tid}/schedstat", out var n) || !_reader.TryRead(path[..n], oneRecord: true))
        {
            stat = default;
            return false;
        }

        try
        {
            stat = SchedStat.ParseTask(_reader.Content, PathPlaceholder);
        }
        catch (ProcfsException e)
        {
            throw e.WithPath(PathPlaceholder, path[..n].ToString());
        }

        return true;
    }

    /// <summary>/proc/PID/task/TID/stat; false when the thread is gone. Allocates nothing.</summary>
    public bool TryReadTaskStat(int pid, int tid, out TaskStat stat) => TryReadTaskStat(pid, tid, out stat, out _);

    /// <summary>The same, with the comm bytes (valid until this instance reads again).</summary>
    private bool TryReadTaskStat(int pid, int tid, out TaskStat stat, out ReadOnlySpan<byte> comm)
    {
        Span<char> path = stackalloc char[ProcDirectory.Length + 64];
        if (!path.TryWrite(CultureInfo.InvariantCulture, $"{ProcDirectory}/{pid}/task/{tid}/stat", out var n) || !_reader.TryRead(path[..n], oneRecord: true))
        {
            stat = default;
            comm = default;
            return false;
        }

        try
        {
            stat = TaskStat.Parse(_reader.Content, PathPlaceholder, out comm);
        }
        catch (ProcfsException e)
        {
            throw e.WithPath(PathPlaceholder, path[..n].ToString());
        }

        return true;
    }

    /// <summary>Opens /proc/PID/task/TID/<paramref name="name"/> to keep it open across cycles; null when the thread is gone or fds ran out.</summary>
    internal KeptProcFile? TryOpenTaskFile(int pid, int tid, string name)
    {
        Span<char> path = stackalloc char[ProcDirectory.Length + 64];
        return path.TryWrite(CultureInfo.InvariantCulture, $"{ProcDirectory}/{pid}/task/{tid}/{name}", out var n)
            ? _reader.TryOpenKept(path[..n], pid, tid, name)
            : null;
    }

    /// <summary>Re-reads a kept schedstat file (pread at 0); false when its thread is gone. Allocates nothing.</summary>
    internal bool TryReadTaskSchedStat(KeptProcFile file, out SchedStat stat)
    {
        try
        {
            if (!_reader.TryReadKept(file, PathPlaceholder))
            {
                stat = default;
                return false;
            }

            stat = SchedStat.ParseTask(_reader.Content, PathPlaceholder);
        }
        catch (ProcfsException e)
        {
            throw e.WithPath(PathPlaceholder, KeptPath(file));
        }

        return true;
    }

    /// <summary>Re-reads a kept task stat file (pread at 0); false when its thread is gone. Allocates nothing.</summary>
    internal bool TryReadTaskStat(KeptProcFile file, out TaskStat stat)
    {
        try
        {
            if (!_reader.TryReadKept(file, PathPlaceholder))
            {
                stat = default;
                return false;
            }

            stat = TaskStat.Parse(_reader.Content, PathPlaceholder);
        }
        catch (ProcfsException e)
        {
            throw e.WithPath(PathPlaceholder, KeptPath(file));
        }

        return true;
    }

    /// <summary>/proc/PID/stat (the whole process: faults and times summed over threads, live and exited).</summary>
    public bool TryReadProcessStat(int pid, out TaskStat stat)
    {
        var path = $"{ProcDirectory}/{pid}/stat";
        if (!_reader.TryRead(path, oneRecord: true))
        {
            stat = default;
            return false;
        }

        stat = TaskStat.Parse(_reader.Content, path);
        return true;
    }

    /// <summary>/proc/PID/task/TID/comm without the newline (for example <c>CPU 0/KVM</c>); null when the thread is gone.</summary>
    public string? ReadTaskComm(int pid, int tid)
    {
        var path = $"{ProcDirectory}/{pid}/task/{tid}/comm";
        return _reader.TryRead(path, oneRecord: true) ? System.Text.Encoding.UTF8.GetString(_reader.Content.TrimEnd((byte)'\n')) : null;
    }

    /// <summary>
    /// A thread's name as its comm file gives it (the same raw bytes), read from its task <c>stat</c> instead, with where
    /// to open its counters from (<paramref name="lastCpu"/>: <see cref="TaskStat.CpuHint"/>, -1 when unreadable): one
    /// read where the first inspection would make two. Null when there is no stat file (the thread is gone).
    /// </summary>
    public string? ReadTaskName(int pid, int tid, out int lastCpu)
    {
        lastCpu = -1;
        if (!TryReadTaskStat(pid, tid, out var stat, out var name))
        {
            return null;
        }

        lastCpu = stat.CpuHint;
        return System.Text.Encoding.UTF8.GetString(name); // raw in both files (only status escapes '\\' and newline)
    }

    public ProcessStatus? ReadStatus(int pid)
    {
        var path = $"{ProcDirectory}/{pid}/status";
        return _reader.TryRead(path, oneRecord: true) ? ProcessStatus.Parse(_reader.Content, path) : null;
    }

    public ProcessCgroups? ReadCgroups(int pid)
    {
        var path = $"{ProcDirectory}/{pid}/cgroup";
        return _reader.TryRead(path, oneRecord: true) ? ProcessCgroups.Parse(_reader.Content, path) : null;
    }

    /// <summary>/proc/PID/cmdline split at NULs; null when the process is gone, empty for kernel threads and zombies.</summary>
    public string[]? ReadCmdline(int pid)
    {
        var path = $"{ProcDirectory}/{pid}/cmdline";
        return _reader.TryRead(path) ? SplitCmdline(_reader.Content) : null;
    }

    /// <summary>The target of /proc/PID/exe without a trailing <c> (deleted)</c>; null when gone or not readable.</summary>
    public string? ReadExecutable(int pid)
    {
        var target = ProcFileReader.TryReadLink($"{ProcDirectory}/{pid}/exe");
        const string Deleted = " (deleted)";
        return target is not null && target.EndsWith(Deleted, StringComparison.Ordinal) ? target[..^Deleted.Length] : target;
    }

    /// <summary>Fills <paramref name="threadIds"/> (cleared first) from /proc/PID/task; false when the process is gone.</summary>
    public bool TryListThreads(int pid, List<int> threadIds)
    {
        threadIds.Clear();
        return TryListNumericDirectories($"{ProcDirectory}/{pid}/task", threadIds);
    }

    /// <summary>Fills <paramref name="pids"/> (cleared first) with every process id in /proc.</summary>
    public void ListProcesses(List<int> pids)
    {
        pids.Clear();
        TryListNumericDirectories(ProcDirectory, pids);
    }

    /// <summary>Every process id in /proc.</summary>
    public List<int> ListProcesses()
    {
        var pids = new List<int>(256);
        TryListNumericDirectories(ProcDirectory, pids);
        return pids;
    }

    public void Dispose()
    {
        CloseHostFiles();
        _reader.Dispose();
    }

    private string KeptPath(KeptProcFile file) =>
        string.Create(CultureInfo.InvariantCulture, $"{ProcDirectory}/{file.Pid}/task/{file.ThreadId}/{file.Name}");

    internal static string[] SplitCmdline(ReadOnlySpan<byte> content)
    {
        if (content.IsEmpty)
        {
            return Array.Empty<string>();
        }

        // A trailing NUL ends the last argument; a process that rewrote its argv may have none.
        if (content[^1] == 0)
        {
            content = content[..^1];
        }

        var args = new List<string>();
        while (true)
        {
            var nul = content.IndexOf((byte)0);
            if (nul < 0)
            {
                args.Add(System.Text.Encoding.UTF8.GetString(content));
                break;
            }

            args.Add(System.Text.Encoding.UTF8.GetString(content[..nul]));
            content = content[(nul + 1)..];
        }

        return args.ToArray();
    }

    private static bool TryListNumericDirectories(string directory, List<int> into) =>
        VmProbe.Native.NumericDirectoryListing.TryList(directory, into);

    private static double QueryClockTicks()
    {
        var ticks = Interop.Libc.Sysconf(Interop.Libc.ScClkTck);
        return ticks > 0 ? ticks : 100;
    }
}
