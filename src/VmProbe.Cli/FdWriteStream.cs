using System.Runtime.InteropServices;
using VmProbe.Cli.Native;

namespace VmProbe.Cli;

/// <summary>
/// A write-only stream over fd 1 or 2 with plain write(2): it opens nothing. Console's streams dup the fd and, on the
/// first write, start the terminal and signal machinery (a pipe): two or three fds a process at its open-file limit
/// does not have, so the one line saying "too many open files" could not be written. A FileStream is no substitute:
/// it writes at its own offset, and stdout and stderr sharing one file would overwrite each other.
/// </summary>
internal sealed class FdWriteStream : Stream
{
    private const int EINTR = 4;
    private readonly int _fd;

    public FdWriteStream(int fd) => _fd = fd;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count)
    {
        var chunk = offset == 0 ? buffer : buffer[offset..(offset + count)];
        var done = 0;
        while (done < count)
        {
            var rest = done == 0 ? chunk : chunk[done..count];
            var written = Interop.Write(_fd, rest, count - done);
            if (written < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == EINTR)
                {
                    continue;
                }

                throw new IOException($"write to fd {_fd} failed (errno {errno})", errno);
            }

            done += (int)written;
        }
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
