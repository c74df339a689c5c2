using VmProbe.Native;

namespace VmProbe.Bpf;

/// <summary>
/// Whether eBPF programs can be loaded here, checked before any load so a caller can fall back with one clear reason:
/// libbpf present, kernel BTF present (CO-RE), root. Lockdown and missing kernel features show only when the kernel
/// refuses a load; <see cref="FromLoadError"/> names them then.
/// </summary>
public static class BpfAvailability
{
    public const string DefaultBtfPath = "/sys/kernel/btf/vmlinux";

    public const string LockdownPath = "/sys/kernel/security/lockdown";

    private const int ENOSYS = 38; // bpf() not built in

    /// <summary>Throws <see cref="BpfUnavailableException"/> for the first missing part. The parameters exist for tests.</summary>
    public static void Check(string libraryName = LibbpfLibrary.Name, string btfPath = DefaultBtfPath)
    {
        var error = Probe(libraryName, btfPath);
        if (error is not null)
        {
            throw error;
        }
    }

    /// <summary>The reason eBPF cannot run, or null when it can (as far as can be told without loading).</summary>
    public static BpfUnavailableException? Probe(string libraryName = LibbpfLibrary.Name, string btfPath = DefaultBtfPath)
    {
        if (!LibbpfLibrary.TryLoad(libraryName, out var failure))
        {
            return new BpfUnavailableException(BpfUnavailableReason.LibraryMissing, failure!, "libbpf,missing", ProbeErrorKind.NotFound)
            {
                RecommendedAction = "apt-get install libbpf1",
            };
        }

        if (!File.Exists(btfPath))
        {
            return new BpfUnavailableException(BpfUnavailableReason.NoBtf,
                $"{btfPath} does not exist: the kernel was built without CONFIG_DEBUG_INFO_BTF, which eBPF tracing needs (CO-RE).",
                "bpf,nobtf", ProbeErrorKind.NotSupported);
        }

        if (Interop.Libc.GetEUid() != 0)
        {
            return new BpfUnavailableException(BpfUnavailableReason.NotPermitted,
                "eBPF tracing needs root (CAP_BPF and CAP_PERFMON): run the probe as root.", "bpf,EPERM", ProbeErrorKind.PermissionDenied);
        }

        return null;
    }

    /// <summary>The lockdown mode in brackets in <paramref name="path"/> (none, integrity, confidentiality), or null.</summary>
    public static string? ReadLockdown(string path = LockdownPath)
    {
        try
        {
            var text = File.ReadAllText(path);
            var start = text.IndexOf('[');
            var end = text.IndexOf(']', start + 1);
            return start >= 0 && end > start ? text[(start + 1)..end] : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The typed exception for a refused bpf() call: EPERM is lockdown (confidentiality) or missing privilege.</summary>
    internal static BpfException FromLoadError(string what, int errno, string detail)
    {
        var errorId = $"{what},{Errno.Name(errno)}";
        var message = $"{what} failed: {Errno.Describe(errno)}{detail}";
        if (errno == Errno.EPERM || errno == Errno.EACCES)
        {
            return ReadLockdown() == "confidentiality"
                ? new BpfUnavailableException(BpfUnavailableReason.Lockdown, message + " (kernel lockdown: confidentiality)", errorId, ProbeErrorKind.PermissionDenied)
                : new BpfUnavailableException(BpfUnavailableReason.NotPermitted, message, errorId, ProbeErrorKind.PermissionDenied);
        }

        if (errno == ENOSYS || errno == Errno.EOPNOTSUPP || errno == Errno.ENOENT)
        {
            return new BpfUnavailableException(BpfUnavailableReason.NotSupported, message, errorId, ProbeErrorKind.NotSupported);
        }

        return new BpfException(message, errorId, errno == Errno.EINVAL ? ProbeErrorKind.InvalidData : ProbeErrorKind.Unknown);
    }
}
