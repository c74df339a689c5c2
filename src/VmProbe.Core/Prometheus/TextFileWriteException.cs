using System.Runtime.InteropServices;

namespace VmProbe.Prometheus;

/// <summary>
/// Writing the textfile failed; <see cref="Path"/> names the file or directory, <see cref="Errno"/> the kernel's answer.
/// The previous endpoint file is still in place when this is thrown. ErrorId is <c>textfile_OPERATION,ERRNONAME</c>,
/// for example <c>textfile_open,EACCES</c> or <c>textfile_write,ENOSPC</c>.
/// </summary>
public sealed class TextFileWriteException : VmProbeException
{
    public TextFileWriteException(string operation, string path, int errno)
        : base(
            $"Cannot {operation} '{path}': {Marshal.GetPInvokeErrorMessage(errno)} ({ErrnoName(errno)}).",
            $"textfile_{operation},{ErrnoName(errno)}",
            KindOf(errno))
    {
        Operation = operation;
        Path = path;
        Errno = errno;
        RecommendedAction = errno switch
        {
            Errnos.EACCES or Errnos.EPERM or Errnos.EROFS => $"Make '{System.IO.Path.GetDirectoryName(path)}' writable for the user running vmprobe, or choose another textfile directory.",
            Errnos.ENOSPC or Errnos.EDQUOT => $"Free space on the filesystem of '{path}'.",
            Errnos.ENOENT or Errnos.ENOTDIR => $"Check that the directory of '{path}' exists and is a directory (node_exporter's --collector.textfile.directory).",
            Errnos.EISDIR => $"'{path}' is a directory; the endpoint must be a file name ending in .prom.",
            _ => null,
        };
    }

    /// <summary>The step that failed: mkdir, open, write, fsync, chmod, rename.</summary>
    public string Operation { get; }

    public string Path { get; }

    public int Errno { get; }

    internal static string ErrnoName(int errno) => errno switch
    {
        Errnos.EPERM => "EPERM",
        Errnos.ENOENT => "ENOENT",
        Errnos.EINTR => "EINTR",
        Errnos.EIO => "EIO",
        Errnos.EBADF => "EBADF",
        Errnos.EACCES => "EACCES",
        Errnos.EBUSY => "EBUSY",
        Errnos.EEXIST => "EEXIST",
        Errnos.EXDEV => "EXDEV",
        Errnos.ENOTDIR => "ENOTDIR",
        Errnos.EISDIR => "EISDIR",
        Errnos.EINVAL => "EINVAL",
        Errnos.EFBIG => "EFBIG",
        Errnos.ENOSPC => "ENOSPC",
        Errnos.EROFS => "EROFS",
        Errnos.ENAMETOOLONG => "ENAMETOOLONG",
        Errnos.ENOTEMPTY => "ENOTEMPTY",
        Errnos.ELOOP => "ELOOP",
        Errnos.EDQUOT => "EDQUOT",
        _ => "errno" + errno.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static ProbeErrorKind KindOf(int errno) => errno switch
    {
        Errnos.EACCES or Errnos.EPERM or Errnos.EROFS => ProbeErrorKind.PermissionDenied,
        Errnos.ENOENT or Errnos.ENOTDIR => ProbeErrorKind.NotFound,
        Errnos.ENOSPC or Errnos.EDQUOT or Errnos.EFBIG => ProbeErrorKind.ResourceUnavailable,
        Errnos.EISDIR or Errnos.ENAMETOOLONG or Errnos.EINVAL or Errnos.ELOOP => ProbeErrorKind.InvalidArgument,
        _ => ProbeErrorKind.Unknown,
    };

    /// <summary>Linux errno values (asm-generic, same on x86-64 and arm64).</summary>
    internal static class Errnos
    {
        public const int EPERM = 1;
        public const int ENOENT = 2;
        public const int EINTR = 4;
        public const int EIO = 5;
        public const int EBADF = 9;
        public const int EACCES = 13;
        public const int EBUSY = 16;
        public const int EEXIST = 17;
        public const int EXDEV = 18;
        public const int ENOTDIR = 20;
        public const int EISDIR = 21;
        public const int EINVAL = 22;
        public const int EFBIG = 27;
        public const int ENOSPC = 28;
        public const int EROFS = 30;
        public const int ENAMETOOLONG = 36;
        public const int ELOOP = 40;
        public const int ENOTEMPTY = 39;
        public const int EDQUOT = 122;
    }
}
