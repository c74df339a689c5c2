namespace VmProbe.Kvm.Exits;

/// <summary>Which way VM exits are counted (the <c>mode</c> label of <c>probe_kvm_exits_mode_info</c>).</summary>
public enum KvmExitTracerMode
{
    Off,

    /// <summary>One <c>kvm:kvm_exit</c> perf counter per reason and vCPU thread, with a <c>exit_reason==N</c> filter: counts only.</summary>
    PerfFilter,

    /// <summary>eBPF programs aggregating in kernel maps: counts per reason and the other KVM events.</summary>
    BpfCounts,

    /// <summary>As <see cref="BpfCounts"/>, plus the handling-time histograms (kvm_exit to kvm_entry).</summary>
    BpfLatency,
}

/// <summary>
/// Counts VM exits (and, as it can, the other KVM events) for the processes it is told about, and hands its cumulative
/// counts out as a <see cref="KvmExitSnapshot"/>. The eBPF tracer traces every process and may ignore <see cref="Track"/>;
/// the perf-filter tracer opens counters on exactly the threads it is given. Not thread-safe: one caller (the cycle).
/// </summary>
internal interface IKvmExitTracer : IDisposable
{
    KvmExitTracerMode Mode { get; }

    /// <summary>One line for the log and <c>--check</c>: what runs and what it costs (for example the reasons counted).</summary>
    string Description { get; }

    /// <summary>Whether <see cref="Track"/> uses the vCPU threads (a system-wide tracer does not: the source then does not look them up).</summary>
    bool TracksThreads => true;

    /// <summary>The threads of <paramref name="tgid"/> that run vCPUs now (called every cycle; threads gone are dropped, their counts kept).</summary>
    void Track(int tgid, IReadOnlyCollection<int> vcpuThreadIds);

    /// <summary>Everything counted so far for the processes tracked (or all processes, for a system-wide tracer).</summary>
    KvmExitSnapshot Snapshot();

    /// <summary>Drops what is kept for a process that went (its counters, map entries, open fds).</summary>
    void Forget(int tgid);
}

/// <summary>Why a tracer cannot run here (no libbpf, no BTF, not root, no tracefs...); the source tries the next mode.</summary>
public sealed class KvmExitTracerUnavailableException : VmProbeException
{
    public KvmExitTracerUnavailableException(string message, string errorId, Exception? inner = null)
        : base(message, errorId, ProbeErrorKind.NotSupported, inner)
    {
    }
}
