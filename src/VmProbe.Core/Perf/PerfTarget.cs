namespace VmProbe.Perf;

internal enum PerfTargetKind
{
    /// <summary>All tasks, system-wide: pid=-1, one group per online CPU.</summary>
    Host,

    /// <summary>One thread: pid=TID, cpu=-1, no inherit.</summary>
    Thread,

    /// <summary>All tasks of a cgroup v2 directory (and its children): PERF_FLAG_PID_CGROUP, one group per online CPU.</summary>
    Cgroup,
}

/// <summary>What a counter set counts. Value equality, so it can key dictionaries.</summary>
internal sealed record PerfTarget
{
    private PerfTarget(PerfTargetKind kind, int threadId, string? cgroupPath)
    {
        Kind = kind;
        ThreadId = threadId;
        CgroupPath = cgroupPath;
    }

    public PerfTargetKind Kind { get; }

    /// <summary>The TID for <see cref="PerfTargetKind.Thread"/>, else -1.</summary>
    public int ThreadId { get; }

    /// <summary>The absolute cgroup v2 directory for <see cref="PerfTargetKind.Cgroup"/>, else null.</summary>
    public string? CgroupPath { get; }

    /// <summary>Whether counts are kept per CPU (host and cgroup targets).</summary>
    public bool IsPerCpu => Kind != PerfTargetKind.Thread;

    public static PerfTarget Host { get; } = new(PerfTargetKind.Host, -1, null);

    public static PerfTarget Thread(int threadId) =>
        threadId > 0 ? new(PerfTargetKind.Thread, threadId, null) : throw new ArgumentOutOfRangeException(nameof(threadId), threadId, "a thread id is > 0");

    public static PerfTarget Cgroup(string directory) =>
        !string.IsNullOrEmpty(directory) && Path.IsPathRooted(directory)
            ? new(PerfTargetKind.Cgroup, -1, directory)
            : throw new ArgumentException($"cgroup directory must be an absolute path, got '{directory}'", nameof(directory));

    public override string ToString() => Kind switch
    {
        PerfTargetKind.Host => "host",
        PerfTargetKind.Thread => "thread " + ThreadId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => "cgroup " + CgroupPath,
    };
}
