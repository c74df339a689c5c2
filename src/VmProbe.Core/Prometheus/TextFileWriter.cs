using System.Globalization;
using System.Runtime.InteropServices;
using VmProbe.Native;

namespace VmProbe.Prometheus;

/// <summary>
/// Replaces a node_exporter textfile atomically, so a scrape never sees a half-written file: the content goes to a
/// temp file in the same directory (<c>.NAME.tmp.PID</c>, which does not end in <c>.prom</c> and so is never read by
/// node_exporter), gets mode 0644, and takes the endpoint's name (exchange or rename, below). On any failure the temp
/// file is removed and the previous endpoint file stays as it was; the error is a <see cref="TextFileWriteException"/>.
/// </summary>
/// <remarks>
/// One instance per endpoint, reused every cycle: the paths are computed once. Temp files left by a crashed earlier
/// run (same pattern, pid no longer alive) are removed before the first write. A missing directory is created (0755).
/// No fsync: a reader never sees a half file because the name is replaced in one step, whatever is on the disk.
/// fsync would only order the data before the replace for a power loss; after one, the file holds the counters of a
/// host that has since rebooted (stale whatever it holds: the old or new file, or an empty one) and the first cycle of
/// the restarted probe replaces it. It was 4 % of a cycle at 200 VMs (a journal or device flush per cycle) for a
/// guarantee a metrics file does not need.
/// <para>
/// The replace is an exchange (<c>renameat2 RENAME_EXCHANGE</c>) and an unlink of the old file, not a rename over it:
/// ext4 (auto_da_alloc) starts writing the new file's data to the disk on every rename that replaces a file, a device
/// write per cycle (a third of the write's CPU at 10 VMs, bench/RESULTS.md) for data the next cycle deletes. Readers see
/// the same thing either way: the name always holds a whole file, and one opened before the exchange stays readable.
/// A file system that cannot exchange, and each writer's first write, use rename.
/// </para>
/// </remarks>
public sealed class TextFileWriter
{
    private const int FileMode0644 = 0x1A4; // rw-r--r--: node_exporter may run as another user
    private const int DirMode0755 = 0x1ED;

    private readonly IProbeLog _log;
    private bool _staleTempsCleaned;
    private bool _tempMayExist = true; // until the first write has cleaned up: then only after a failed write
    private bool _cannotExchange;
    private bool _replacedBefore;

    /// <exception cref="VmProbeException">The path is empty, has no file name or does not end in <c>.prom</c>.</exception>
    public TextFileWriter(string endpointPath, IProbeLog? log = null)
    {
        ArgumentNullException.ThrowIfNull(endpointPath);
        var fileName = Path.GetFileName(endpointPath);
        if (fileName.Length == 0 || !fileName.EndsWith(".prom", StringComparison.Ordinal) || fileName == ".prom")
        {
            throw new VmProbeException(
                $"Textfile endpoint '{endpointPath}' must be a file name ending in '.prom': node_exporter's textfile collector reads only *.prom files.",
                "textfile_path,invalid",
                ProbeErrorKind.InvalidArgument)
            {
                RecommendedAction = "Set the output path to DIRECTORY/NAME.prom, where DIRECTORY is node_exporter's --collector.textfile.directory.",
            };
        }

        _log = log ?? NullProbeLog.Instance;
        EndpointPath = Path.GetFullPath(endpointPath);
        DirectoryPath = Path.GetDirectoryName(EndpointPath)!;
        TempPath = TempPathFor(EndpointPath, Environment.ProcessId);
    }

    public string EndpointPath { get; }

    public string DirectoryPath { get; }

    /// <summary>This process's temp file: <c>DIR/.NAME.tmp.PID</c>.</summary>
    public string TempPath { get; }

    /// <summary>The temp file name used for <paramref name="endpointPath"/> by process <paramref name="pid"/>.</summary>
    public static string TempPathFor(string endpointPath, int pid) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(endpointPath))!, TempPrefix(endpointPath) + pid.ToString(CultureInfo.InvariantCulture));

    /// <summary>One-shot convenience: <c>new TextFileWriter(endpointPath).Write(content)</c>.</summary>
    public static void WriteAtomic(string endpointPath, ReadOnlySpan<byte> content) => new TextFileWriter(endpointPath).Write(content);

    /// <summary>Renders <paramref name="metrics"/> with <paramref name="writer"/> and replaces the endpoint with it.</summary>
    public PromWriteResult Write(MetricSet metrics, PromTextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var bytes = writer.Render(metrics, out var result);
        Write(bytes.Span);
        return result;
    }

    /// <summary>Replaces the endpoint file with <paramref name="content"/>, atomically.</summary>
    /// <exception cref="TextFileWriteException">A step failed; the previous endpoint file is unchanged and no temp file is left.</exception>
    public void Write(ReadOnlySpan<byte> content)
    {
        if (!_staleTempsCleaned)
        {
            CleanStaleTemps();
            _staleTempsCleaned = true;
        }

        // A leftover of our own (same pid: an earlier run's, or a failed cycle whose cleanup failed) would make O_EXCL fail.
        if (_tempMayExist)
        {
            Interop.Libc.Unlink(TempPath);
            _tempMayExist = false;
        }

        const int CreateFlags = Interop.Libc.O_WRONLY | Interop.Libc.O_CREAT | Interop.Libc.O_EXCL | Interop.Libc.O_CLOEXEC;
        var handle = Interop.Libc.Open(TempPath, CreateFlags, FileMode0644);
        if (handle.IsInvalid && Marshal.GetLastPInvokeError() == Errno.ENOENT && !Directory.Exists(DirectoryPath))
        {
            handle.Dispose();
            CreateDirectory(DirectoryPath);
            handle = Interop.Libc.Open(TempPath, CreateFlags, FileMode0644);
        }

        using (handle)
        {
            if (handle.IsInvalid)
            {
                _tempMayExist = true; // EEXIST: a file of that name is in the way
                throw new TextFileWriteException("open", TempPath, Marshal.GetLastPInvokeError());
            }

            try
            {
                WriteAll(handle, content, TempPath);
                Check(Interop.Libc.FChmod(handle, FileMode0644), "chmod", TempPath); // exactly 0644 whatever the umask
                var closeErrno = handle.CloseAndGetErrno(); // NFS reports deferred write errors here
                if (closeErrno != 0)
                {
                    throw new TextFileWriteException("close", TempPath, closeErrno);
                }

                Replace();
            }
            catch
            {
                handle.Dispose();
                _tempMayExist = Interop.Libc.Unlink(TempPath) != 0;
                throw;
            }
        }
    }

    // Exchange only once this writer has put a file there: an exchange, unlike rename, would move a directory away.
    private void Replace()
    {
        var refused = 0;
        if (_replacedBefore && !_cannotExchange)
        {
            refused = Exchange();
            if (refused == 0)
            {
                DropReplaced();
                return;
            }
        }

        Check(Interop.Libc.Rename(TempPath, EndpointPath), "rename", EndpointPath);
        _replacedBefore = true;
        if (refused is not (0 or Errno.ENOENT))
        {
            // The file system, a seccomp filter or an LSM refuses the exchange, and rename works: keep to rename.
            _cannotExchange = true;
            _log.Write(LogLevel.Info, $"Replacing '{EndpointPath}' by rename from now on: renameat2 RENAME_EXCHANGE failed with {Errno.Name(refused)}.");
        }
    }

    /// <summary>0, or the errno of the exchange (ENOSYS where libc has no renameat2).</summary>
    private int Exchange()
    {
        try
        {
            return Interop.Libc.RenameAt2(Interop.Libc.AtFdCwd, TempPath, Interop.Libc.AtFdCwd, EndpointPath, Interop.Libc.RenameExchange) == 0
                ? 0
                : Marshal.GetLastPInvokeError();
        }
        catch (EntryPointNotFoundException)
        {
            return Errno.ENOSYS;
        }
    }

    // The temp name now holds what the endpoint held. Something other than a file (a directory put there since the
    // last write) is exchanged back and the write fails, as rename would have.
    private void DropReplaced()
    {
        if (Interop.Libc.Unlink(TempPath) == 0)
        {
            return;
        }

        var errno = Marshal.GetLastPInvokeError();
        if ((errno is Errno.EISDIR or Errno.EPERM) && Directory.Exists(TempPath))
        {
            var back = Exchange();
            throw new TextFileWriteException("rename", EndpointPath, back == 0 ? Errno.EISDIR : back);
        }

        _tempMayExist = true; // removed before the next create
    }

    /// <summary>Removes temp files of this endpoint left by processes that no longer run. Returns how many were removed.</summary>
    public int CleanStaleTemps()
    {
        if (!Directory.Exists(DirectoryPath))
        {
            return 0;
        }

        var removed = 0;
        var prefix = TempPrefix(EndpointPath);
        try
        {
            foreach (var path in Directory.EnumerateFiles(DirectoryPath, prefix + "*"))
            {
                var suffix = Path.GetFileName(path.AsSpan())[prefix.Length..];
                if (!int.TryParse(suffix, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                {
                    continue; // not one of ours
                }

                if (pid != Environment.ProcessId && Directory.Exists("/proc/" + pid.ToString(CultureInfo.InvariantCulture)))
                {
                    continue; // another live process writes this endpoint; not ours to delete
                }

                if (Interop.Libc.Unlink(path) == 0)
                {
                    removed++;
                    _log.Write(LogLevel.Info, $"Removed stale temp file '{path}' of an earlier run.");
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Cleaning is a courtesy; the write itself reports real problems with the directory.
            _log.Write(LogLevel.Warning, $"Cannot list '{DirectoryPath}' to remove stale temp files: {e.Message}");
        }

        return removed;
    }

    private static string TempPrefix(string endpointPath) => "." + Path.GetFileName(endpointPath) + ".tmp.";

    private static unsafe void WriteAll(SafeFdHandle handle, ReadOnlySpan<byte> content, string path)
    {
        fixed (byte* start = content)
        {
            var offset = 0;
            while (offset < content.Length)
            {
                var n = Interop.Libc.Write(handle, start + offset, (nuint)(content.Length - offset));
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Errno.EINTR)
                    {
                        continue;
                    }

                    throw new TextFileWriteException("write", path, errno);
                }

                offset += (int)n;
            }
        }
    }

    // mkdir's mode is masked by the umask (077 gives 0700, and node_exporter, running as another user, could not enter
    // the directory): every directory created here is set to exactly 0755 after mkdir.
    private static void CreateDirectory(string path)
    {
        if (Interop.Libc.MkDir(path, DirMode0755) == 0)
        {
            SetMode0755(path);
            return;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno == Errno.EEXIST)
        {
            return; // created concurrently, or not a directory: open() then reports ENOTDIR with the path
        }

        var parent = Path.GetDirectoryName(path);
        if (errno == Errno.ENOENT && parent is not null && parent != path)
        {
            CreateDirectory(parent);
            if (Interop.Libc.MkDir(path, DirMode0755) == 0)
            {
                SetMode0755(path);
                return;
            }

            errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.EEXIST)
            {
                return;
            }
        }

        throw new TextFileWriteException("mkdir", path, errno);
    }

    private static void SetMode0755(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        try
        {
            File.SetUnixFileMode(path, (UnixFileMode)DirMode0755);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TextFileWriteException("chmod", path, ex is UnauthorizedAccessException ? Errno.EPERM : Errno.EIO);
        }
    }

    private static void Check(int rc, string operation, string path)
    {
        if (rc != 0)
        {
            throw new TextFileWriteException(operation, path, Marshal.GetLastPInvokeError());
        }
    }
}
