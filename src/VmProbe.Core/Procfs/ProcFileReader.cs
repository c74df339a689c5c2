using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using VmProbe.Native;

namespace VmProbe.Procfs;

/// <summary>
/// Reads a whole procfs/cgroupfs file with one open, a read loop and one close into a reusable buffer
/// (procfs files report size 0, so anything that stats first reads nothing or reads twice).
/// A missing file or a vanished process/thread (ENOENT, ESRCH, ENOTDIR) is reported as false; any other
/// failure throws <see cref="ProcfsException"/> naming the file. Not thread-safe: one reader per collecting thread.
/// </summary>
internal sealed class ProcFileReader : IDisposable
{
    private const int MaxPathBytes = 4096;
    private byte[] _buffer;
    private int _length;

    public ProcFileReader(int initialCapacity = 16 * 1024)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 256));
    }

    /// <summary>The content of the last successful read; valid until the next read.</summary>
    public ReadOnlySpan<byte> Content => _buffer.AsSpan(0, _length);

    /// <summary>
    /// Reads the file at <paramref name="path"/>; false when it (or its process) does not exist. A file the kernel renders
    /// as one record (<paramref name="oneRecord"/>: a task's stat, schedstat, status, comm, cgroup) ends at the first
    /// read that returns less than asked, which saves the read that returns nothing; any other is read until a read
    /// returns nothing.
    /// </summary>
    public unsafe bool TryRead(ReadOnlySpan<char> path, bool oneRecord = false)
    {
        ObjectDisposedException.ThrowIf(_buffer.Length == 0, this);
        _length = 0;
        using var fd = OpenReadOnly(path);
        if (fd.IsInvalid)
        {
            return HandleError(Marshal.GetLastPInvokeError(), path, "open");
        }

        while (true)
        {
            if (_length == _buffer.Length)
            {
                Grow();
            }

            nint n;
            fixed (byte* b = &_buffer[_length])
            {
                n = Interop.Libc.Read(fd, b, (nuint)(_buffer.Length - _length));
            }

            if (n < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.EINTR)
                {
                    continue;
                }

                _length = 0;
                return HandleError(errno, path, "read");
            }

            if (n == 0)
            {
                return true;
            }

            _length += (int)n;
            if (oneRecord && _length < _buffer.Length)
            {
                return true;
            }
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> to keep it; null when it (or its thread) does not exist, or when the process is out of
    /// fds (EMFILE/ENFILE: the caller falls back to open/read/close). Other failures throw like <see cref="TryRead"/>.
    /// </summary>
    internal KeptProcFile? TryOpenKept(ReadOnlySpan<char> path, int pid, int tid, string name) =>
        TryOpenKept(path, pid, tid, name, out _);

    /// <summary>The same, telling a file that does not exist (<paramref name="missing"/>) from a process out of fds.</summary>
    internal KeptProcFile? TryOpenKept(ReadOnlySpan<char> path, int pid, int tid, string name, out bool missing)
    {
        var fd = OpenReadOnly(path);
        missing = false;
        if (fd.IsInvalid)
        {
            var errno = Marshal.GetLastPInvokeError();
            fd.Dispose();
            if (errno is not (Errno.EMFILE or Errno.ENFILE))
            {
                missing = !HandleError(errno, path, "open"); // throws unless the file or thread is gone
            }

            return null;
        }

        return new KeptProcFile(fd, pid, tid, name);
    }

    /// <summary>
    /// Re-reads a kept file from offset 0 with pread; false when its thread is gone (ESRCH, ENOENT or nothing to read).
    /// Each further pread starts where the last ended, which is where the seq file's rendering stands, so the pieces
    /// come from one rendering. A file of one record ends at the first short read; one of many records
    /// (<paramref name="manyRecords"/>: /proc/schedstat, a record per CPU) is read until a read returns nothing, since
    /// the kernel returns at most about a page of records per read.
    /// </summary>
    internal unsafe bool TryReadKept(KeptProcFile file, ReadOnlySpan<char> pathForErrors, bool manyRecords = false)
    {
        ObjectDisposedException.ThrowIf(_buffer.Length == 0, this);
        _length = 0;
        while (true)
        {
            if (_length == _buffer.Length)
            {
                Grow();
            }

            nint n;
            var requested = _buffer.Length - _length;
            fixed (byte* b = &_buffer[_length])
            {
                n = Interop.Libc.PRead(file.Handle, b, (nuint)requested, _length);
            }

            if (n < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.EINTR)
                {
                    continue;
                }

                _length = 0;
                return HandleError(errno, pathForErrors, "read");
            }

            if (n == 0)
            {
                return _length > 0;
            }

            _length += (int)n;

            // Kept files are single-record seq files (schedstat, stat): the first read returns the whole content
            // when it fits, so a short read is the end. Asking again would make procfs render the file once more
            // (a pread at a non-zero offset re-runs the show function), doubling the cost of the read.
            if (n < requested && !manyRecords)
            {
                return true;
            }
        }
    }

    /// <summary>Reads the target of a symbolic link (for <c>/proc/PID/exe</c>); null when missing or unreadable.</summary>
    public static unsafe string? TryReadLink(string path)
    {
        Span<byte> pathBytes = stackalloc byte[MaxPathBytes];
        EncodePath(path, pathBytes);
        Span<byte> target = stackalloc byte[MaxPathBytes];
        nint n;
        fixed (byte* p = pathBytes)
        fixed (byte* t = target)
        {
            n = Interop.Libc.ReadLink(p, t, (nuint)target.Length);
        }

        return n <= 0 ? null : Encoding.UTF8.GetString(target[..(int)n]);
    }

    /// <summary>open(2) read-only and close-on-exec, retried on EINTR; an invalid handle with errno left for the caller.</summary>
    private static unsafe SafeFdHandle OpenReadOnly(ReadOnlySpan<char> path)
    {
        Span<byte> pathBytes = stackalloc byte[MaxPathBytes];
        EncodePath(path, pathBytes);
        fixed (byte* p = pathBytes)
        {
            while (true)
            {
                var fd = Interop.Libc.Open(p, Interop.Libc.O_RDONLY | Interop.Libc.O_CLOEXEC, 0);
                if (!fd.IsInvalid || Marshal.GetLastPInvokeError() != Errno.EINTR)
                {
                    return fd;
                }

                fd.Dispose();
            }
        }
    }

    public void Dispose()
    {
        if (_buffer.Length != 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = Array.Empty<byte>();
            _length = 0;
        }
    }

    private static void EncodePath(ReadOnlySpan<char> path, Span<byte> destination)
    {
        if (!Interop.Libc.TryEncodePath(path, destination))
        {
            throw new ProcfsException($"Path too long: {path.ToString()}", path.ToString(), "procfs_read,ENAMETOOLONG", ProbeErrorKind.InvalidArgument, 36);
        }
    }

    private static bool HandleError(int errno, ReadOnlySpan<char> path, string call)
    {
        // The process or thread exited between listing and reading: not an error for a prober.
        if (errno is Errno.ENOENT or Errno.ESRCH or Errno.ENOTDIR)
        {
            return false;
        }

        var file = path.ToString();
        var name = Errno.Name(errno);
        var kind = errno is Errno.EACCES or Errno.EPERM ? ProbeErrorKind.PermissionDenied : ProbeErrorKind.Unknown;
        throw new ProcfsException($"Cannot {call} {file}: {name} (errno {errno}).", file, "procfs_read," + name, kind, errno)
        {
            RecommendedAction = kind == ProbeErrorKind.PermissionDenied ? "Run as root to read other users' processes and cgroups." : null,
        };
    }

    private void Grow()
    {
        var bigger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}
