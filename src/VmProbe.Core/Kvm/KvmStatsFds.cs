using System.Globalization;
using System.Runtime.InteropServices;
using VmProbe.Native;
using VmProbe.Procfs;

namespace VmProbe.Kvm;

/// <summary>A stats fd of a QEMU process as /proc/PID/fd shows it: its number and link text.</summary>
internal readonly record struct KvmStatsFdLink(int Fd, string Link);

/// <summary>
/// One KVM binary statistics fd duplicated from QEMU: the header, id and descriptors are parsed once, each read is one
/// pread of the data block at its offset. pread, never read: the duplicate shares QEMU's open file and file position
/// (the kernel opens stats files with FMODE_PREAD and a stats read checks no owner, virt/kvm/kvm_main.c and binary_stats.c).
/// Holding it keeps the VM's struct kvm referenced, so it is closed as soon as the domain is gone.
/// </summary>
internal sealed unsafe class KvmStatsFd : IDisposable
{
    private const int FirstReadBytes = 16 * 1024;
    private const int MaxFileBytes = 4 * 1024 * 1024;

    private readonly SafeFdHandle _handle;
    private readonly ulong[] _data;
    private KvmStatsSnapshot? _snapshot;
    private IReadOnlyList<KvmStatDescriptor> _kept;
    private int _firstWord;
    private int _words;

    private KvmStatsFd(SafeFdHandle handle, KvmStatsLayout layout, string target, KvmStatsFdLink link = default)
    {
        _handle = handle;
        Layout = layout;
        Target = target;
        Link = link;
        // The data block is u64s (binary_stats.c): read straight into them, each statistic a window at offset / 8.
        if (layout.DataLength % sizeof(ulong) != 0 || layout.Descriptors.Any(d => d.Offset % sizeof(ulong) != 0))
        {
            throw KvmStatsException.Format(target, "offset", "a statistic's offset or the data block's length is not a multiple of 8 bytes");
        }

        _data = new ulong[layout.DataLength / sizeof(ulong)];
        _kept = layout.Descriptors;
        _words = _data.Length;
    }

    public KvmStatsLayout Layout { get; }

    public string Target { get; }

    /// <summary>The owner's fd number and link text it was duplicated from (default for an fd of this process).</summary>
    public KvmStatsFdLink Link { get; }

    /// <summary>The kernel's anon inode names of stats fds (<c>anon_inode:kvm-vcpu-stats:N</c>, <c>anon_inode:kvm-vm-stats</c>).</summary>
    public static bool IsKernelStatsLink(string link) =>
        link.StartsWith("anon_inode:kvm-vcpu-stats", StringComparison.Ordinal) || link == "anon_inode:kvm-vm-stats";

    /// <summary>The fds of <paramref name="pid"/> under <paramref name="procRoot"/>/PID/fd whose link <paramref name="isStats"/> accepts.</summary>
    public static List<KvmStatsFdLink> Find(string procRoot, int pid, Func<string, bool> isStats)
    {
        // getdents64 and one readlink per fd, nothing more: a QEMU holds a hundred fds or more.
        var found = new List<KvmStatsFdLink>();
        var directory = Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture), "fd");
        var fds = new List<int>();
        try
        {
            if (!NumericDirectoryListing.TryListLinks(directory, fds))
            {
                return found;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return found;
        }

        fds.Sort();
        foreach (var fd in fds)
        {
            // null: closed meanwhile
            var link = ProcFileReader.TryReadLink(string.Concat(directory, "/", fd.ToString(CultureInfo.InvariantCulture)));
            if (link is not null && isStats(link))
            {
                found.Add(new KvmStatsFdLink(fd, link));
            }
        }

        return found;
    }

    /// <summary>Opens a pidfd for <paramref name="pid"/>; caller disposes.</summary>
    /// <exception cref="KvmStatsException">pidfd_open failed (<c>kvm_pidfd,ERRNO</c>).</exception>
    public static SafeFdHandle OpenPid(int pid)
    {
        var pidFd = Interop.Libc.PidFdOpen(pid);
        if (pidFd.IsInvalid)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw PidFdError($"pid {pid}", "pidfd_open", errno);
        }

        return pidFd;
    }

    /// <summary>Duplicates fd <paramref name="link"/> of the process behind <paramref name="pidFd"/> and parses its layout.</summary>
    /// <exception cref="KvmStatsException">pidfd_getfd, the read or the layout failed.</exception>
    public static KvmStatsFd Duplicate(SafeFdHandle pidFd, int pid, KvmStatsFdLink link)
    {
        var target = $"pid {pid} fd {link.Fd} ({link.Link})";
        var handle = Interop.Libc.PidFdGetFd(pidFd, link.Fd, FdKind.KvmStats);
        if (handle.IsInvalid)
        {
            throw PidFdError(target, "pidfd_getfd", Marshal.GetLastPInvokeError());
        }

        try
        {
            var content = ReadWhole(handle, target);
            return new KvmStatsFd(handle, KvmStatsLayout.Parse(content, target), target, link);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Wraps an fd this process opened itself (tests, benchmarks).</summary>
    internal static KvmStatsFd FromHandle(SafeFdHandle handle, string target)
    {
        try
        {
            return new(handle, KvmStatsLayout.Parse(ReadWhole(handle, target), target), target);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// From now on reads and returns only the statistics <paramref name="allow"/> accepts (<c>kvmstatsallow</c>): the
    /// pread covers the span of the data block that holds them, and the snapshot lists only them, so that a cycle does
    /// not copy, walk and filter the hundred-odd statistics it leaves out.
    /// </summary>
    public void KeepOnly(Func<string, bool> allow)
    {
        _kept = Layout.Descriptors.Where(d => allow(d.Name)).ToArray();
        _snapshot = null;
        if (_kept.Count == 0)
        {
            (_firstWord, _words) = (0, 0);
            return;
        }

        // The layout checked every descriptor's window against the data block; the span is the union of the kept ones.
        _firstWord = _kept.Min(d => d.Offset / sizeof(ulong));
        _words = _kept.Max(d => (d.Offset / sizeof(ulong)) + d.Size) - _firstWord;
    }

    /// <summary>
    /// Reads the data block (one pread into the fd's own buffer) and returns every statistic's values (those kept by
    /// <see cref="KeepOnly"/>). The snapshot and its value arrays are this fd's, made once and refilled by each read (no
    /// allocation per cycle): valid until the next <see cref="Read"/>, which is what a cycle's emitter needs.
    /// </summary>
    public KvmStatsSnapshot Read()
    {
        if (_words > 0)
        {
            PReadExactly(_handle, MemoryMarshal.AsBytes(_data.AsSpan(_firstWord, _words)), Layout.DataOffset + ((long)_firstWord * sizeof(ulong)), Target);
        }

        if (_snapshot is null)
        {
            var readings = new KvmStatReading[_kept.Count];
            for (var i = 0; i < readings.Length; i++)
            {
                var descriptor = _kept[i];
                readings[i] = new KvmStatReading(descriptor, new ArraySegment<ulong>(_data, descriptor.Offset / sizeof(ulong), descriptor.Size));
            }

            _snapshot = new KvmStatsSnapshot(Layout.VcpuIndex, readings);
        }

        return _snapshot;
    }

    public void Dispose() => _handle.Dispose();

    private static byte[] ReadWhole(SafeFdHandle handle, string target)
    {
        var buffer = new byte[FirstReadBytes];
        while (true)
        {
            var n = PRead(handle, buffer, 0, target);
            if (n < buffer.Length)
            {
                return buffer[..n];
            }

            if (buffer.Length >= MaxFileBytes)
            {
                throw KvmStatsException.Format(target, "size", $"more than {MaxFileBytes} bytes");
            }

            buffer = new byte[buffer.Length * 4];
        }
    }

    private static void PReadExactly(SafeFdHandle handle, Span<byte> buffer, long offset, string target)
    {
        var n = PRead(handle, buffer, offset, target);
        if (n != buffer.Length)
        {
            throw KvmStatsException.Format(target, "truncated", $"the data block gave {n} of {buffer.Length} bytes");
        }
    }

    private static int PRead(SafeFdHandle handle, Span<byte> buffer, long offset, string target)
    {
        var total = 0;
        fixed (byte* start = buffer)
        {
            while (total < buffer.Length)
            {
                var n = Interop.Libc.PRead(handle, start + total, (nuint)(buffer.Length - total), offset + total);
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Errno.EINTR)
                    {
                        continue;
                    }

                    throw new KvmStatsException($"Cannot read the KVM statistics of {target}: {Errno.Describe(errno)}.", target,
                        "kvm_stats_read," + Errno.Name(errno), ProbeErrorKind.ResourceUnavailable, errno);
                }

                if (n == 0)
                {
                    break;
                }

                total += (int)n;
            }
        }

        return total;
    }

    private static KvmStatsException PidFdError(string target, string call, int errno) =>
        new($"{call} on {target} failed: {Errno.Describe(errno)}.", target, "kvm_pidfd," + Errno.Name(errno),
            errno is Errno.EPERM or Errno.EACCES ? ProbeErrorKind.PermissionDenied
            : errno == Errno.ESRCH ? ProbeErrorKind.NotFound : ProbeErrorKind.NotSupported, errno)
        {
            RecommendedAction = errno is Errno.EPERM or Errno.EACCES
                ? "Duplicating QEMU's stats fds needs root (PTRACE_MODE_ATTACH over QEMU); run the probe as root or use the libvirt/debugfs sources."
                : "pidfd_open/pidfd_getfd need Linux 5.6+ and glibc 2.36+; the domain is served by another source.",
        };
}
