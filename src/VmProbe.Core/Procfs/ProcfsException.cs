namespace VmProbe.Procfs;

/// <summary>
/// A procfs or cgroup file could not be read (other than the process or thread having gone away, which readers report
/// as false/null) or its content did not parse. <see cref="FilePath"/> names the file.
/// ErrorIds: <c>procfs_read,ERRNO</c> (for example <c>procfs_read,EACCES</c>) and <c>procfs_parse,InvalidData</c>.
/// </summary>
public sealed class ProcfsException : VmProbeException
{
    public ProcfsException(string message, string filePath, string errorId, ProbeErrorKind kind, int errno = 0, Exception? inner = null)
        : base(message, errorId, kind, inner)
    {
        FilePath = filePath;
        Errno = errno;
    }

    public string FilePath { get; }

    /// <summary>The errno of the failed system call; 0 for a parse error.</summary>
    public int Errno { get; }

    /// <summary>The same error about <paramref name="realPath"/> (parsers of hot files are first given a placeholder).</summary>
    internal ProcfsException WithPath(string placeholder, string realPath) =>
        new(Message.Replace(placeholder, realPath, StringComparison.Ordinal), realPath, ErrorId, Kind, Errno, this)
        {
            RecommendedAction = RecommendedAction,
        };

    internal static ProcfsException Parse(string filePath, string what) =>
        new($"Cannot parse {filePath}: {what}.", filePath, "procfs_parse,InvalidData", ProbeErrorKind.InvalidData)
        {
            RecommendedAction = "Check that the file comes from a Linux kernel procfs/cgroupfs; report the file content if it does.",
        };
}
