using System.Buffers;
using System.Runtime.InteropServices;

namespace VmProbe.Native;

/// <summary>
/// Counts this process's open file descriptors. Linux 6.2 and later report the count as the size of <c>/proc/self/fd</c>
/// (one statx); older kernels report 0 there, and the directory is listed with getdents64 only (.NET's directory
/// enumeration stats every entry, and even a bare listing builds a dentry per fd: at thousands of perf and kept procfs
/// fds the listing alone cost a sixth of a cycle).
/// </summary>
public static unsafe partial class ProcessFds
{
    private const string FdDirectory = "/proc/self/fd";
    private const int BufferBytes = 32 * 1024;

    // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
    private const int RecordLengthOffset = 16;
    private const int NameOffset = 19;

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
    internal static long CountFromDirectorySize()
    {
        // struct statx is 256 bytes with the same layout on every architecture; stx_mask at 0, stx_size (u64) at 40.
        const int StatxBytes = 256;
        const int MaskOffset = 0;
        const int SizeOffset = 40;
        const uint StatxSize = 0x200;
        const int AtFdCwd = -100;

        var buffer = stackalloc byte[StatxBytes];
        fixed (byte* path = "/proc/self/fd\0"u8)
        {
            if (Statx(AtFdCwd, path, 0, StatxSize, buffer) != 0)
            {
                return -1;
            }
        }

        var mask = *(uint*)(buffer + MaskOffset);
        return (mask & StatxSize) == 0 ? 0 : (long)*(ulong*)(buffer + SizeOffset);
    }

    /// <summary>Entries of <paramref name="directory"/> (without <c>.</c> and <c>..</c>), from getdents64 alone; -1 when unreadable.</summary>
    internal static int CountDirectoryEntries(string directory)
    {
        var dirFd = Libc.Open(directory, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC);
        if (dirFd < 0)
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
                    var n = GetDents64(dirFd, start, (nuint)buffer.Length);
                    if (n < 0)
                    {
                        if (Marshal.GetLastPInvokeError() == 4)
                        {
                            continue; // EINTR
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
            Libc.Close(dirFd);
        }
    }

    /// <summary>Entries in a getdents64 buffer, without <c>.</c> and <c>..</c>.</summary>
    internal static int CountEntries(ReadOnlySpan<byte> records)
    {
        var count = 0;
        var offset = 0;
        while (offset + NameOffset < records.Length)
        {
            var length = MemoryMarshal.Read<ushort>(records[(offset + RecordLengthOffset)..]);
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

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static partial int Statx(int dirFd, byte* path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "getdents64", SetLastError = true)]
    private static partial nint GetDents64(int fd, byte* buffer, nuint count);
}
