using System.Runtime.InteropServices;
using VmProbe.Native;

namespace VmProbe.Bpf;

/// <summary>
/// One run of an attached BPF iterator (iter/task programs): an iterator fd created from the link, read to the end into
/// a buffer that is reused and grows by doubling, closed. Shared by the procfs task iterator and the task-storage counts.
/// </summary>
internal static class BpfIteratorRead
{
    /// <summary>
    /// Reads the iterator of <paramref name="link"/> to the end into <paramref name="buffer"/> from <paramref name="offset"/>;
    /// returns the length of what the buffer then holds (offset + the bytes read).
    /// </summary>
    /// <param name="what">The object/program, for error messages.</param>
    public static int Run(BpfLinkHandle link, ref byte[] buffer, string what) => Run(link, ref buffer, 0, what);

    /// <inheritdoc cref="Run(BpfLinkHandle, ref byte[], string)"/>
    public static int Run(BpfLinkHandle link, ref byte[] buffer, int offset, string what)
    {
        var added = false;
        link.DangerousAddRef(ref added);
        try
        {
            var fd = Interop.Libbpf.bpf_iter_create(Interop.Libbpf.bpf_link__fd(link));
            if (fd < 0)
            {
                throw Error("bpf_iter_create", what, Marshal.GetLastPInvokeError());
            }

            using var iterator = new SafeFdHandle(fd, FdKind.Transient);
            return ReadToEnd(iterator, ref buffer, offset, what);
        }
        finally
        {
            link.DangerousRelease();
        }
    }

    private static unsafe int ReadToEnd(SafeFdHandle fd, ref byte[] buffer, int length, string what)
    {
        while (true)
        {
            if (length == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }

            nint n;
            fixed (byte* into = buffer)
            {
                n = Interop.Libc.Read(fd, into + length, (nuint)(buffer.Length - length));
            }

            if (n == 0)
            {
                return length;
            }

            if (n < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR)
                {
                    throw Error("read", what, errno);
                }

                continue;
            }

            length += (int)n;
        }
    }

    private static BpfException Error(string call, string what, int errno) =>
        new($"{call} ({what}) failed: {Errno.Describe(errno)}", $"{call},{Errno.Name(errno)}", ProbeErrorKind.Unknown);
}
