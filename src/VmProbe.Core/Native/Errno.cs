namespace VmProbe.Native;

/// <summary>Linux (x86_64 / generic) errno values with their symbolic names and strerror-like text, shared by all native wrappers.</summary>
public static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int ENXIO = 6;
    public const int E2BIG = 7;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EFAULT = 14;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int ENODEV = 19;
    public const int ENOTDIR = 20;
    public const int EINVAL = 22;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int ENOSPC = 28;
    public const int EOVERFLOW = 75;
    public const int EOPNOTSUPP = 95;
    public const int ETIMEDOUT = 110;
    public const int ECONNREFUSED = 111;

    /// <summary>The symbolic name (<c>EACCES</c>), or <c>E{n}</c> for a value this table does not know.</summary>
    public static string Name(int errno) => errno switch
    {
        EPERM => "EPERM",
        ENOENT => "ENOENT",
        ESRCH => "ESRCH",
        EINTR => "EINTR",
        EIO => "EIO",
        ENXIO => "ENXIO",
        E2BIG => "E2BIG",
        EBADF => "EBADF",
        EAGAIN => "EAGAIN",
        ENOMEM => "ENOMEM",
        EACCES => "EACCES",
        EFAULT => "EFAULT",
        EBUSY => "EBUSY",
        EEXIST => "EEXIST",
        ENODEV => "ENODEV",
        ENOTDIR => "ENOTDIR",
        EINVAL => "EINVAL",
        ENFILE => "ENFILE",
        EMFILE => "EMFILE",
        ENOSPC => "ENOSPC",
        EOVERFLOW => "EOVERFLOW",
        EOPNOTSUPP => "EOPNOTSUPP",
        ETIMEDOUT => "ETIMEDOUT",
        ECONNREFUSED => "ECONNREFUSED",
        _ => "E" + errno.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Human text like strerror(3).</summary>
    public static string Describe(int errno) => errno switch
    {
        EPERM => "Operation not permitted",
        ENOENT => "No such file or directory",
        ESRCH => "No such process",
        EINTR => "Interrupted system call",
        EIO => "Input/output error",
        ENXIO => "No such device or address",
        E2BIG => "Argument list too long",
        EBADF => "Bad file descriptor",
        EAGAIN => "Resource temporarily unavailable",
        ENOMEM => "Cannot allocate memory",
        EACCES => "Permission denied",
        EFAULT => "Bad address",
        EBUSY => "Device or resource busy",
        EEXIST => "File exists",
        ENODEV => "No such device",
        ENOTDIR => "Not a directory",
        EINVAL => "Invalid argument",
        ENFILE => "Too many open files in system",
        EMFILE => "Too many open files",
        ENOSPC => "No space left on device",
        EOVERFLOW => "Value too large for defined data type",
        EOPNOTSUPP => "Operation not supported",
        ETIMEDOUT => "Connection timed out",
        ECONNREFUSED => "Connection refused",
        _ => "Unknown error " + errno.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The usual mapping of an errno to what a caller can act on.</summary>
    public static ProbeErrorKind ToKind(int errno) => errno switch
    {
        EPERM or EACCES => ProbeErrorKind.PermissionDenied,
        ENOENT or ESRCH or ENXIO => ProbeErrorKind.NotFound,
        EOPNOTSUPP or ENODEV => ProbeErrorKind.NotSupported,
        EMFILE or ENFILE or ENOMEM or EAGAIN or EBUSY or ENOSPC => ProbeErrorKind.ResourceUnavailable,
        EINVAL or E2BIG or EBADF or EFAULT or EOVERFLOW => ProbeErrorKind.InvalidArgument,
        ETIMEDOUT => ProbeErrorKind.Timeout,
        ECONNREFUSED => ProbeErrorKind.ConnectionError,
        _ => ProbeErrorKind.Unknown,
    };
}
