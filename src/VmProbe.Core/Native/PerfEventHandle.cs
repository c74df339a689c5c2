using System.Runtime.InteropServices;

namespace VmProbe.Native;

/// <summary>A perf event file descriptor. Counts live handles process-wide for the <c>probe_open_fds</c> metric and fd budgeting.</summary>
public sealed class PerfEventHandle : SafeHandle
{
    private static long openCount;

    internal PerfEventHandle(int fd)
        : base(new IntPtr(-1), ownsHandle: true)
    {
        SetHandle(new IntPtr(fd));
        Interlocked.Increment(ref openCount);
    }

    /// <summary>Perf event fds currently open in this process (opened by this engine).</summary>
    public static long OpenCount => Interlocked.Read(ref openCount);

    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>The raw fd, for syscalls. Valid until the handle is disposed.</summary>
    internal int Fd => (int)handle.ToInt64();

    protected override bool ReleaseHandle()
    {
        Interlocked.Decrement(ref openCount);
        return Libc.Close(Fd) == 0;
    }
}
