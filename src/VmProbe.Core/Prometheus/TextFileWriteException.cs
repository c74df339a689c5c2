using System.Runtime.InteropServices;
using VmProbe.Native;

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
            $"Cannot {operation} '{path}': {Marshal.GetPInvokeErrorMessage(errno)} ({ErrnoName(errno)}){FdLimitDetail(errno)}.",
            $"textfile_{operation},{ErrnoName(errno)}",
            KindOf(errno))
    {
        Operation = operation;
        Path = path;
        Errno = errno;
        RecommendedAction = errno switch
        {
            Native.Errno.EACCES or Native.Errno.EPERM or Native.Errno.EROFS => $"Make '{System.IO.Path.GetDirectoryName(path)}' writable for the user running vmprobe, or choose another textfile directory.",
            Native.Errno.ENOSPC or Native.Errno.EDQUOT => $"Free space on the filesystem of '{path}'.",
            Native.Errno.ENOENT or Native.Errno.ENOTDIR => $"Check that the directory of '{path}' exists and is a directory (node_exporter's --collector.textfile.directory).",
            Native.Errno.EISDIR => $"'{path}' is a directory; the endpoint must be a file name ending in .prom.",
            Native.Errno.EMFILE => "Raise the open-file limit of the user or unit running vmprobe (ulimit -n, LimitNOFILE=).",
            _ => null,
        };
    }

    /// <summary>The step that failed: mkdir, open, write, fsync, chmod, rename.</summary>
    public string Operation { get; }

    public string Path { get; }

    public int Errno { get; }

    /// <summary>For EMFILE, how many fds are open of how many allowed and what to do; empty otherwise.</summary>
    private static string FdLimitDetail(int errno)
    {
        if (errno != Native.Errno.EMFILE)
        {
            return "";
        }

        try
        {
            var (soft, _) = Perf.PerfFdBudget.GetNoFileLimit();
            return System.FormattableString.Invariant(
                $": {Math.Min((ulong)Math.Max(0, ProcessFds.CountOpen()), soft)} of the {soft} allowed (RLIMIT_NOFILE) are open; raise the limit (ulimit -n, LimitNOFILE=)");
        }
        catch (Exception)
        {
            return ": raise the open-file limit (ulimit -n, LimitNOFILE=)";
        }
    }

    /// <summary>The errno's symbolic name; <c>errnoN</c> (this ErrorId's historical form) for one the table does not know.</summary>
    internal static string ErrnoName(int errno) =>
        Native.Errno.KnownName(errno) ?? "errno" + errno.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static ProbeErrorKind KindOf(int errno) => errno switch
    {
        Native.Errno.EACCES or Native.Errno.EPERM or Native.Errno.EROFS => ProbeErrorKind.PermissionDenied,
        Native.Errno.ENOENT or Native.Errno.ENOTDIR => ProbeErrorKind.NotFound,
        Native.Errno.ENOSPC or Native.Errno.EDQUOT or Native.Errno.EFBIG => ProbeErrorKind.ResourceUnavailable,
        Native.Errno.EISDIR or Native.Errno.ENAMETOOLONG or Native.Errno.EINVAL or Native.Errno.ELOOP => ProbeErrorKind.InvalidArgument,
        _ => ProbeErrorKind.Unknown,
    };
}
