namespace VmProbe.Bpf;

/// <summary>Why eBPF cannot run here; the KVM exit source falls back to perf tracepoint counters for any of them.</summary>
public enum BpfUnavailableReason
{
    /// <summary>libbpf.so.1 cannot be loaded.</summary>
    LibraryMissing,

    /// <summary>No kernel BTF (/sys/kernel/btf/vmlinux): CO-RE cannot relocate the programs.</summary>
    NoBtf,

    /// <summary>Not root (or without CAP_BPF and CAP_PERFMON): the bpf() syscall refused (EPERM).</summary>
    NotPermitted,

    /// <summary>The kernel is locked down in confidentiality mode and refused the programs.</summary>
    Lockdown,

    /// <summary>The kernel lacks something the programs need (a tracepoint, a helper, bpf() itself).</summary>
    NotSupported,
}

/// <summary>A BPF object that could not be opened, loaded, attached or read. <see cref="VmProbeException.ErrorId"/> is <c>function,ERRNO</c>.</summary>
public class BpfException : VmProbeException
{
    public BpfException(string message, string errorId, ProbeErrorKind kind, Exception? inner = null)
        : base(message, errorId, kind, inner)
    {
    }
}

/// <summary>eBPF cannot run on this host, for <see cref="Reason"/>: a caller falls back instead of failing.</summary>
public sealed class BpfUnavailableException : BpfException
{
    public BpfUnavailableException(BpfUnavailableReason reason, string message, string errorId, ProbeErrorKind kind)
        : base(message, errorId, kind)
    {
        Reason = reason;
    }

    public BpfUnavailableReason Reason { get; }
}
