using System.Buffers;
using System.Runtime.InteropServices;

namespace VmProbe.Native;

/// <summary>
/// Counts this process's open file descriptors by listing <c>/proc/self/fd</c> with getdents64 only: .NET's directory
/// enumeration stats every entry (they are symlinks), which at thousands of perf fds cost a third of a cycle.
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
        // The listing's own descriptor is in the list.
        var entries = CountDirectoryEntries(FdDirectory);
        return entries < 0 ? -1 : Math.Max(0, entries - 1);
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

    [LibraryImport("libc", EntryPoint = "getdents64", SetLastError = true)]
    private static partial nint GetDents64(int fd, byte* buffer, nuint count);
}
