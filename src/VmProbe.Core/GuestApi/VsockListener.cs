using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using VmProbe.Native;

namespace VmProbe.GuestApi;

/// <summary>
/// An AF_VSOCK listener on any CID. The peer's CID comes from the host's kernel (vhost-vsock assigns it per VM), so a
/// guest cannot claim another's: the resolver maps it to the one domain whose XML has that CID. Needs /dev/vhost-vsock
/// for guests to reach it; bind and listen work without it.
/// </summary>
internal sealed class VsockListener : IDisposable
{
    private readonly SafeFdHandle fd;

    private VsockListener(SafeFdHandle fd, uint port)
    {
        this.fd = fd;
        Port = port;
    }

    public uint Port { get; }

    public static VsockListener Listen(uint port)
    {
        var raw = Interop.Libc.Socket(Interop.Libc.AfVsock, Interop.Libc.SockStream | Interop.Libc.SockCloexec, 0);
        if (raw < 0)
        {
            throw Failure("socket(AF_VSOCK)", port, Marshal.GetLastPInvokeError());
        }

        var fd = new SafeFdHandle(raw, FdKind.Transient);
        try
        {
            var address = new Interop.Libc.SockAddrVm { Family = Interop.Libc.AfVsock, Port = port, Cid = Interop.Libc.VmaddrCidAny };
            if (Interop.Libc.BindVsock(fd, address, (uint)Marshal.SizeOf<Interop.Libc.SockAddrVm>()) < 0)
            {
                throw Failure("bind", port, Marshal.GetLastPInvokeError());
            }

            if (Interop.Libc.Listen(fd, 64) < 0)
            {
                throw Failure("listen", port, Marshal.GetLastPInvokeError());
            }

            return new VsockListener(fd, port);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>The next connection and its CID, or null after half a second without one (or once stopped).</summary>
    public (uint Cid, Stream Stream)? TryAccept(CancellationToken stop)
    {
        if (stop.IsCancellationRequested || fd.IsClosed)
        {
            return null;
        }

        var added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            var poll = new Interop.Libc.PollFd { Fd = (int)fd.DangerousGetHandle(), Events = Interop.Libc.PollIn };
            if (Interop.Libc.Poll(ref poll, 1, 500) <= 0)
            {
                return null;
            }
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }

        var length = (uint)Marshal.SizeOf<Interop.Libc.SockAddrVm>();
        var client = Interop.Libc.AcceptVsock(fd, out var peer, ref length, Interop.Libc.SockCloexec);
        if (client < 0)
        {
            return null;
        }

        // .NET's Socket adopts any connected stream socket; its reads and writes then honour cancellation like TCP's.
        var socket = new Socket(new SafeSocketHandle(client, ownsHandle: true));
        return (peer.Cid, new NetworkStream(socket, ownsSocket: true));
    }

    public void Dispose() => fd.Dispose();

    private static VmProbeException Failure(string call, uint port, int errno) =>
        new($"guestapi: cannot listen on vsock:{port.ToString(CultureInfo.InvariantCulture)}: {call} failed: {Errno.Describe(errno)}"
            + (errno == Errno.EAFNOSUPPORT ? " (no AF_VSOCK on this host: load vhost_vsock)" : string.Empty),
            "guestapi_listen," + Errno.Name(errno), ProbeErrorKind.ResourceUnavailable);
}
