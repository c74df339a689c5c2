using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    /// <summary>socket(2) and friends for AF_VSOCK, which .NET's Socket cannot create or bind (no EndPoint for it).</summary>
    internal static partial class Libc
    {
        public const int AfVsock = 40;
        public const int SockStream = 1;
        public const int SockCloexec = 0x80000;
        public const int SockNonblock = 0x800;

        /// <summary>VMADDR_CID_ANY: bind on every CID the host has.</summary>
        public const uint VmaddrCidAny = uint.MaxValue;

        public const short PollIn = 0x001;

        /// <summary>struct sockaddr_vm (linux/vm_sockets.h): family, reserved, port, cid, flags, zero[3] — 16 bytes.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct SockAddrVm
        {
            public ushort Family;
            public ushort Reserved1;
            public uint Port;
            public uint Cid;
            public byte Flags;
            public byte Zero0;
            public byte Zero1;
            public byte Zero2;
        }

        /// <summary>struct pollfd: int fd; short events; short revents — 8 bytes.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct PollFd
        {
            public int Fd;
            public short Events;
            public short REvents;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "socket", SetLastError = true)]
        internal static partial int Socket(int domain, int type, int protocol);

        [LibraryImport(Libraries.Libc, EntryPoint = "bind", SetLastError = true)]
        internal static partial int BindVsock(SafeFdHandle fd, in SockAddrVm address, uint length);

        [LibraryImport(Libraries.Libc, EntryPoint = "listen", SetLastError = true)]
        internal static partial int Listen(SafeFdHandle fd, int backlog);

        /// <summary>accept4(2) with the peer's sockaddr_vm (its CID, set by the host's kernel).</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "accept4", SetLastError = true)]
        internal static partial int AcceptVsock(SafeFdHandle fd, out SockAddrVm address, ref uint length, int flags);

        /// <summary>poll(2) on one fd, so that an accept loop wakes to check for a stop.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "poll", SetLastError = true)]
        internal static partial int Poll(ref PollFd fds, nuint count, int timeoutMs);
    }
}
