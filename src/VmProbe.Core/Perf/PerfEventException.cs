using VmProbe.Native;

namespace VmProbe.Perf;

/// <summary>
/// A perf_event_open / ioctl / read failure. <see cref="VmProbeException.ErrorId"/> is <c>{operation},{ERRNO}</c>,
/// e.g. <c>perf_event_open,EACCES</c>.
/// </summary>
public class PerfEventException : VmProbeException
{
    public PerfEventException(string message, string operation, int errno, string? eventName, string? target, ProbeErrorKind kind)
        : base(message, operation + "," + Native.Errno.Name(errno), kind)
    {
        Operation = operation;
        Errno = errno;
        EventName = eventName;
        Target = target;
    }

    public string Operation { get; }

    public int Errno { get; }

    public string ErrnoName => Native.Errno.Name(Errno);

    /// <summary>The event's canonical name, when the failure concerns one event.</summary>
    public string? EventName { get; }

    /// <summary>What was being counted: <c>host cpu 3</c>, <c>thread 1234</c>, <c>cgroup /sys/fs/cgroup/...</c>.</summary>
    public string? Target { get; }

    /// <summary>Maps an errno to the right exception type and kind, with a message naming the event and target.</summary>
    public static PerfEventException FromErrno(string operation, int errno, string? eventName, string? target)
    {
        var what = eventName is null ? operation : $"{operation} for event '{eventName}'";
        if (target is not null)
        {
            what += $" on {target}";
        }

        var text = $"{what} failed: {Native.Errno.Name(errno)} ({Native.Errno.Describe(errno)})";
        switch (errno)
        {
            case Native.Errno.EACCES:
            case Native.Errno.EPERM:
                return new PerfEventException(text, operation, errno, eventName, target, ProbeErrorKind.PermissionDenied)
                {
                    RecommendedAction = "Run as root or with CAP_PERFMON, or lower /proc/sys/kernel/perf_event_paranoid.",
                };
            case Native.Errno.ENOENT:
            case Native.Errno.EOPNOTSUPP:
            case Native.Errno.ENODEV:
                return new PerfEventNotSupportedException(text + " - event not supported here", operation, errno, eventName, target);
            case Native.Errno.ESRCH:
                return new PerfEventException(text + " - the task is gone", operation, errno, eventName, target, ProbeErrorKind.NotFound);
            case Native.Errno.EMFILE:
            case Native.Errno.ENFILE:
                return new PerfEventException(text, operation, errno, eventName, target, ProbeErrorKind.ResourceUnavailable)
                {
                    RecommendedAction = "Raise the open-file limit (ulimit -n / LimitNOFILE) or count fewer events or targets.",
                };
            case Native.Errno.EINVAL:
            case Native.Errno.E2BIG:
                return new PerfEventException(text, operation, errno, eventName, target, ProbeErrorKind.InvalidArgument);
            default:
                return new PerfEventException(text, operation, errno, eventName, target, KindOf(errno));
        }
    }

    /// <summary>The usual mapping of an errno from a perf (or fd-limit) call to what a caller can act on.</summary>
    internal static ProbeErrorKind KindOf(int errno) => errno switch
    {
        Native.Errno.EPERM or Native.Errno.EACCES => ProbeErrorKind.PermissionDenied,
        Native.Errno.ENOENT or Native.Errno.ESRCH or Native.Errno.ENXIO => ProbeErrorKind.NotFound,
        Native.Errno.EOPNOTSUPP or Native.Errno.ENODEV => ProbeErrorKind.NotSupported,
        Native.Errno.EMFILE or Native.Errno.ENFILE or Native.Errno.ENOMEM or Native.Errno.EAGAIN or Native.Errno.EBUSY or Native.Errno.ENOSPC => ProbeErrorKind.ResourceUnavailable,
        Native.Errno.EINVAL or Native.Errno.E2BIG or Native.Errno.EBADF or Native.Errno.EFAULT or Native.Errno.EOVERFLOW => ProbeErrorKind.InvalidArgument,
        Native.Errno.ETIMEDOUT => ProbeErrorKind.Timeout,
        Native.Errno.ECONNREFUSED => ProbeErrorKind.ConnectionError,
        _ => ProbeErrorKind.Unknown,
    };
}
