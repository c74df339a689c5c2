using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VmProbe.Native;
using Xunit;

namespace VmProbe.Tests.GuestApi;

/// <summary>The structs of the guest endpoint's native calls, against libvirt-domain.h and linux/vm_sockets.h (LP64).</summary>
public class GuestApiLayoutTests
{
    [Fact]
    public void DomainInterfaceMatchesLibvirtDomainH()
    {
        // struct _virDomainInterface { char *name; char *hwaddr; unsigned int naddrs; virDomainIPAddressPtr addrs; };
        Assert.Equal(32, Unsafe.SizeOf<VirDomainInterface>());
        Assert.Equal(8, (int)Marshal.OffsetOf<VirDomainInterface>(nameof(VirDomainInterface.HwAddr)));
        Assert.Equal(16, (int)Marshal.OffsetOf<VirDomainInterface>(nameof(VirDomainInterface.AddressCount)));
        Assert.Equal(24, (int)Marshal.OffsetOf<VirDomainInterface>(nameof(VirDomainInterface.Addrs)));

        // struct _virDomainIPAddress { int type; char *addr; unsigned int prefix; };
        Assert.Equal(24, Unsafe.SizeOf<VirDomainIPAddress>());
        Assert.Equal(8, (int)Marshal.OffsetOf<VirDomainIPAddress>(nameof(VirDomainIPAddress.Addr)));
        Assert.Equal(16, (int)Marshal.OffsetOf<VirDomainIPAddress>(nameof(VirDomainIPAddress.Prefix)));
    }

    [Fact]
    public void SockAddrVmAndPollFdMatchTheKernel()
    {
        // struct sockaddr_vm { sa_family_t svm_family; unsigned short svm_reserved1; unsigned int svm_port;
        //   unsigned int svm_cid; __u8 svm_flags; unsigned char svm_zero[3]; } = sizeof(struct sockaddr) = 16
        Assert.Equal(16, Unsafe.SizeOf<Interop.Libc.SockAddrVm>());
        Assert.Equal(4, (int)Marshal.OffsetOf<Interop.Libc.SockAddrVm>(nameof(Interop.Libc.SockAddrVm.Port)));
        Assert.Equal(8, (int)Marshal.OffsetOf<Interop.Libc.SockAddrVm>(nameof(Interop.Libc.SockAddrVm.Cid)));
        Assert.Equal(12, (int)Marshal.OffsetOf<Interop.Libc.SockAddrVm>(nameof(Interop.Libc.SockAddrVm.Flags)));
        Assert.Equal(8, Unsafe.SizeOf<Interop.Libc.PollFd>());
        Assert.Equal(6, (int)Marshal.OffsetOf<Interop.Libc.PollFd>(nameof(Interop.Libc.PollFd.REvents)));
    }
}
