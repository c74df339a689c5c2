using System.Buffers;
using System.Runtime.InteropServices;

namespace VmProbe.Native;

/// <summary>
/// The numeric subdirectories of a directory (/proc's pids, /proc/PID/task's tids), or its numeric links (/proc/PID/fd's
/// fds), from getdents64 alone: .NET's directory enumeration makes one native call per entry, which at a few hundred
/// processes per cycle is a visible part of the discovery.
/// </summary>
internal static unsafe class NumericDirectoryListing
{
    private const byte DtUnknown = 0;
    private const byte DtDir = 4;
    private const byte DtLnk = 10;
    private const int BufferBytes = 32 * 1024;

    /// <summary>
    /// Adds the ids of <paramref name="directory"/>'s all-digit subdirectories to <paramref name="into"/>; false when the
    /// directory does not exist (or its process is gone). Other failures throw: <see cref="UnauthorizedAccessException"/>
    /// for EACCES/EPERM, <see cref="IOException"/> naming errno and directory otherwise (EMFILE among them).
    /// </summary>
    public static bool TryList(string directory, List<int> into) => TryList(directory, into, links: false);

    /// <summary>As <see cref="TryList(string, List{int})"/>, for the all-digit symbolic links instead (/proc/PID/fd).</summary>
    public static bool TryListLinks(string directory, List<int> into) => TryList(directory, into, links: true);

    private static bool TryList(string directory, List<int> into, bool links)
    {
        using var dirFd = Interop.Libc.Open(directory, Interop.Libc.O_RDONLY | Interop.Libc.O_DIRECTORY | Interop.Libc.O_CLOEXEC);
        if (dirFd.IsInvalid)
        {
            return Missing(Marshal.GetLastPInvokeError(), directory);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            fixed (byte* start = buffer)
            {
                while (true)
                {
                    var n = Interop.Libc.GetDents64(dirFd, start, (nuint)buffer.Length);
                    if (n < 0)
                    {
                        var errno = Marshal.GetLastPInvokeError();
                        if (errno == Errno.EINTR)
                        {
                            continue;
                        }

                        return Missing(errno, directory); // a task directory whose process exited meanwhile: ENOENT
                    }

                    if (n == 0)
                    {
                        return true;
                    }

                    AddNumericEntries(new ReadOnlySpan<byte>(start, (int)n), into, links ? DtLnk : DtDir);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Adds the all-digit directory names of a getdents64 buffer (records checked against its length).</summary>
    internal static void AddNumericDirectories(ReadOnlySpan<byte> records, List<int> into) => AddNumericEntries(records, into, DtDir);

    private static void AddNumericEntries(ReadOnlySpan<byte> records, List<int> into, byte wantedType)
    {
        const int NameOffset = Interop.Libc.LinuxDirent64.NameOffset;
        var offset = 0;
        while (offset + NameOffset < records.Length)
        {
            var length = MemoryMarshal.Read<ushort>(records[(offset + Interop.Libc.LinuxDirent64.RecordLengthOffset)..]);
            if (length <= NameOffset || offset + length > records.Length)
            {
                return; // a record that does not fit is not trusted, nor anything after it
            }

            var type = records[offset + NameOffset - 1];
            var name = records.Slice(offset + NameOffset, length - NameOffset);
            var end = name.IndexOf((byte)0);
            if ((type == wantedType || type == DtUnknown) && TryParseId(end < 0 ? name : name[..end], out var id))
            {
                into.Add(id);
            }

            offset += length;
        }
    }

    private static bool TryParseId(ReadOnlySpan<byte> name, out int id)
    {
        id = 0;
        if (name.IsEmpty || name.Length > 10)
        {
            return false;
        }

        long value = 0;
        foreach (var c in name)
        {
            if (c is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        if (value > int.MaxValue)
        {
            return false;
        }

        id = (int)value;
        return true;
    }

    private static bool Missing(int errno, string directory) => errno switch
    {
        Errno.ENOENT or Errno.ENOTDIR or Errno.ESRCH => false,
        Errno.EACCES or Errno.EPERM => throw new UnauthorizedAccessException($"{directory}: {Errno.Describe(errno)}"),
        _ => throw new IOException($"{directory}: {Errno.Describe(errno)} ({Errno.Name(errno)})", errno),
    };
}
