using System.Buffers;
using System.Runtime.InteropServices;

namespace VmProbe.Native;

/// <summary>
/// Counts this process's open file descriptors. Linux 6.2 and later report the count as the size of <c>/proc/self/fd</c>
/// (one statx); older kernels report 0 there, and the directory is listed with getdents64 only (.NET's directory
/// enumeration stats every entry, and even a bare listing builds a dentry per fd: at thousands of perf and kept procfs
/// fds the listing alone cost a sixth of a cycle).
/// </summary>
internal static unsafe class ProcessFds
{
    private const string FdDirectory = "/proc/self/fd";
    private const int BufferBytes = 32 * 1024;

    /// <summary>Open fds of this process (not counting the one used to list them); -1 when /proc/self/fd cannot be read.</summary>
    public static int CountOpen()
    {
        var reported = CountFromDirectorySize();
        if (reported > 0)
        {
            return (int)Math.Min(reported, int.MaxValue);
        }

        // The listing's own descriptor is in the list.
        var entries = CountDirectoryEntries(FdDirectory);
        return entries < 0 ? -1 : Math.Max(0, entries - 1);
    }

    /// <summary>The size statx reports for /proc/self/fd: the open fd count on Linux 6.2+, 0 before; -1 on error.</summary>
    internal static long CountFromDirectorySize() => CountFromDirectorySize("/proc/self/fd\0"u8);

    /// <summary>The same for another process' fd directory (<c>/proc/PID/fd</c>): its open fd count on Linux 6.2+.</summary>
    internal static long CountFromDirectorySize(int pid)
    {
        Span<byte> path = stackalloc byte[32];
        var written = System.Text.Encoding.ASCII.GetBytes($"/proc/{pid}/fd", path);
        path[written] = 0;
        return CountFromDirectorySize(path[..(written + 1)]);
    }

    private static long CountFromDirectorySize(ReadOnlySpan<byte> nulTerminatedPath)
    {
        Interop.Libc.Statx statx;
        fixed (byte* path = nulTerminatedPath)
        {
            if (Interop.Libc.StatX(Interop.Libc.AtFdCwd, path, 0, Interop.Libc.StatxSize, &statx) != 0)
            {
                return -1;
            }
        }

        return (statx.Mask & Interop.Libc.StatxSize) == 0 ? 0 : (long)statx.Size;
    }

    /// <summary>Entries of <paramref name="directory"/> (without <c>.</c> and <c>..</c>), from getdents64 alone; -1 when unreadable.</summary>
    internal static int CountDirectoryEntries(string directory)
    {
        using var dirFd = Interop.Libc.Open(directory, Interop.Libc.O_RDONLY | Interop.Libc.O_DIRECTORY | Interop.Libc.O_CLOEXEC);
        if (dirFd.IsInvalid)
        {
            return -1;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            var count = 0;
            fixed (byte* start = buffer)
            {
                while (true)
                {
                    var n = Interop.Libc.GetDents64(dirFd, start, (nuint)buffer.Length);
                    if (n < 0)
                    {
                        if (Marshal.GetLastPInvokeError() == Errno.EINTR)
                        {
                            continue;
                        }

                        return -1;
                    }

                    if (n == 0)
                    {
                        break;
                    }

                    count += CountEntries(new ReadOnlySpan<byte>(start, (int)n));
                }
            }

            return count;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Entries in a getdents64 buffer, without <c>.</c> and <c>..</c>.</summary>
    internal static int CountEntries(ReadOnlySpan<byte> records)
    {
        var count = 0;
        var offset = 0;
        const int NameOffset = Interop.Libc.LinuxDirent64.NameOffset;
        while (offset + NameOffset < records.Length)
        {
            var length = MemoryMarshal.Read<ushort>(records[(offset + Interop.Libc.LinuxDirent64.RecordLengthOffset)..]);
            if (length == 0)
            {
                break;
            }

            var name = records[(offset + NameOffset)..];
            var isDot = name[0] == (byte)'.' && (name[1] == 0 || (name[1] == (byte)'.' && name[2] == 0));
            if (!isDot)
            {
                count++;
            }

            offset += length;
        }

        return count;
    }
}
