namespace VmProbe.Kvm;

/// <summary>
/// KVM's statistics of a domain could not be read or did not parse. ErrorIds: <c>kvm_stats_format,REASON</c> for a
/// binary statistics blob that breaks the documented layout (<c>truncated</c>, <c>offset</c>, <c>name</c>, <c>size</c>),
/// <c>kvm_stats_read,ERRNO</c> for a failed read, <c>kvm_pidfd,ERRNO</c> for pidfd_open/pidfd_getfd, and
/// <c>kvm_debugfs,ERRNO</c> for the debugfs fallback. <see cref="Target"/> names the fd or file.
/// </summary>
public sealed class KvmStatsException : VmProbeException
{
    public KvmStatsException(string message, string target, string errorId, ProbeErrorKind kind, int errno = 0, Exception? inner = null)
        : base(message, errorId, kind, inner)
    {
        Target = target;
        Errno = errno;
    }

    /// <summary>What was read: <c>pid 1234 fd 17 (anon_inode:kvm-vcpu-stats:0)</c>, a debugfs path, or a fixture name.</summary>
    public string Target { get; }

    /// <summary>The errno of the failed system call; 0 for a format error.</summary>
    public int Errno { get; }

    internal static KvmStatsException Format(string target, string reason, string what) =>
        new($"KVM binary statistics of {target} break the documented layout: {what}.", target, "kvm_stats_format," + reason, ProbeErrorKind.InvalidData)
        {
            RecommendedAction = "The kernel's stats format may be newer than this probe; the domain is served by another source meanwhile.",
        };
}
