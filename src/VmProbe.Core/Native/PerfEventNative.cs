using System.Runtime.InteropServices;
using VmProbe.Perf;

namespace VmProbe.Native;

/// <summary>Thin checked wrappers over perf_event_open, its ioctls and read; failures become <see cref="PerfEventException"/>.</summary>
public static unsafe class PerfEventNative
{
    /// <summary>perf_event_open(2). Returns the errno instead of throwing so callers can decide what a failure means for one event.</summary>
    public static int TryOpen(ref PerfEventAttr attr, int pid, int cpu, int groupFd, ulong flags, out PerfEventHandle? handle)
    {
        attr.Size = (uint)sizeof(PerfEventAttr);
        long fd;
        fixed (PerfEventAttr* p = &attr)
        {
            fd = Libc.PerfEventOpenSyscall(Libc.SysPerfEventOpen, p, pid, cpu, groupFd, flags | PerfEventConstants.FlagFdCloexec);
        }

        if (fd < 0)
        {
            handle = null;
            return Marshal.GetLastPInvokeError();
        }

        handle = new PerfEventHandle((int)fd);
        return 0;
    }

    /// <summary>perf_event_open(2) that throws a typed <see cref="PerfEventException"/> naming the event and target.</summary>
    public static PerfEventHandle Open(ref PerfEventAttr attr, int pid, int cpu, int groupFd, ulong flags, string eventName, string target)
    {
        var errno = TryOpen(ref attr, pid, cpu, groupFd, flags, out var handle);
        return errno == 0 ? handle! : throw PerfEventException.FromErrno("perf_event_open", errno, eventName, target);
    }

    public static void Enable(PerfEventHandle handle, bool group) => IoctlChecked(handle, PerfEventConstants.IocEnable, group, "enable");

    public static void Disable(PerfEventHandle handle, bool group) => IoctlChecked(handle, PerfEventConstants.IocDisable, group, "disable");

    public static void Reset(PerfEventHandle handle, bool group) => IoctlChecked(handle, PerfEventConstants.IocReset, group, "reset");

    /// <summary>PERF_EVENT_IOC_ID: the kernel's id of the event, as reported in PERF_FORMAT_ID reads.</summary>
    public static ulong GetId(PerfEventHandle handle)
    {
        ulong id;
        if (Libc.Ioctl(handle.Fd, PerfEventConstants.IocId, &id) != 0)
        {
            throw PerfEventException.FromErrno("perf_event_ioctl_id", Marshal.GetLastPInvokeError(), null, null);
        }

        return id;
    }

    /// <summary>read(2) into <paramref name="buffer"/>; returns bytes read, or -errno.</summary>
    public static int Read(PerfEventHandle handle, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = Libc.Read(handle.Fd, p, (nuint)buffer.Length);
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

    private static void IoctlChecked(PerfEventHandle handle, ulong request, bool group, string what)
    {
        if (Libc.Ioctl(handle.Fd, request, group ? PerfEventConstants.IocFlagGroup : 0UL) != 0)
        {
            throw PerfEventException.FromErrno("perf_event_ioctl_" + what, Marshal.GetLastPInvokeError(), null, null);
        }
    }
}
