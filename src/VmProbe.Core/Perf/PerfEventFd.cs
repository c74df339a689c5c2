using System.Runtime.InteropServices;
using VmProbe.Native;

namespace VmProbe.Perf;

/// <summary>perf_event_open, its ioctls and read over <see cref="SafeFdHandle"/>; failures become <see cref="PerfEventException"/>.</summary>
internal static unsafe class PerfEventFd
{
    /// <summary>perf_event_open(2). Returns the errno instead of throwing so callers can decide what a failure means for one event.</summary>
    /// <param name="groupFd">The group leader, or null to open a leader.</param>
    public static int TryOpen(ref PerfEventAttr attr, int pid, int cpu, SafeFdHandle? groupFd, ulong flags, out SafeFdHandle? handle)
    {
        attr.Size = (uint)sizeof(PerfEventAttr);
        SafeFdHandle fd;
        fixed (PerfEventAttr* p = &attr)
        {
            fd = Interop.Libc.PerfEventOpen(Interop.Libc.SysPerfEventOpen, p, pid, cpu, groupFd ?? SafeFdHandle.None, flags | PerfEventConstants.FlagFdCloexec);
        }

        if (fd.IsInvalid)
        {
            var errno = Marshal.GetLastPInvokeError();
            fd.Dispose();
            handle = null;
            return errno;
        }

        handle = fd.Track(FdKind.PerfEvent);
        return 0;
    }

    /// <summary>perf_event_open(2) that throws a typed <see cref="PerfEventException"/> naming the event and target.</summary>
    public static SafeFdHandle Open(ref PerfEventAttr attr, int pid, int cpu, SafeFdHandle? groupFd, ulong flags, string eventName, string target)
    {
        var errno = TryOpen(ref attr, pid, cpu, groupFd, flags, out var handle);
        return errno == 0 ? handle! : throw PerfEventException.FromErrno("perf_event_open", errno, eventName, target);
    }

    public static void Enable(SafeFdHandle handle, bool group) => IoctlChecked(handle, PerfEventConstants.IocEnable, group, "enable");

    public static void Disable(SafeFdHandle handle, bool group) => IoctlChecked(handle, PerfEventConstants.IocDisable, group, "disable");

    public static void Reset(SafeFdHandle handle, bool group) => IoctlChecked(handle, PerfEventConstants.IocReset, group, "reset");

    /// <summary>PERF_EVENT_IOC_SET_FILTER: an ftrace filter (<c>exit_reason==12</c>) on a tracepoint event; returns 0 or the errno
    /// (EINVAL: the kernel rejected the expression, for example a field the tracepoint does not have).</summary>
    public static int TrySetFilter(SafeFdHandle handle, string filter)
    {
        var bytes = new byte[System.Text.Encoding.ASCII.GetByteCount(filter) + 1];
        System.Text.Encoding.ASCII.GetBytes(filter, bytes);
        fixed (byte* p = bytes)
        {
            return Interop.Libc.Ioctl(handle, PerfEventConstants.IocSetFilter, (nuint)p) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
    }

    /// <summary>read(2) into <paramref name="buffer"/>; returns bytes read, or -errno.</summary>
    public static int Read(SafeFdHandle handle, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = Interop.Libc.Read(handle, p, (nuint)buffer.Length);
                if (n >= 0)
                {
                    return (int)n;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR)
                {
                    return -errno;
                }
            }
        }
    }

    private static void IoctlChecked(SafeFdHandle handle, ulong request, bool group, string what)
    {
        if (Interop.Libc.Ioctl(handle, request, group ? (nuint)PerfEventConstants.IocFlagGroup : 0) != 0)
        {
            throw PerfEventException.FromErrno("perf_event_ioctl_" + what, Marshal.GetLastPInvokeError(), null, null);
        }
    }
}
