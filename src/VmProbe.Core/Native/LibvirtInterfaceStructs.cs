using System.Runtime.InteropServices;

namespace VmProbe.Native;

// Layouts from libvirt-domain.h (LP64); LibvirtLayoutTests pins sizes and offsets.

/// <summary>virDomainIPAddress: { int type; char *addr; unsigned int prefix; } — 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VirDomainIPAddress
{
    /// <summary>VIR_IP_ADDR_TYPE_IPV4 (0) or _IPV6 (1).</summary>
    public int Type;
    public byte* Addr;
    public uint Prefix;
}

/// <summary>virDomainInterface: { char *name; char *hwaddr; unsigned int naddrs; virDomainIPAddressPtr addrs; } — 32 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VirDomainInterface
{
    public byte* Name;
    public byte* HwAddr;
    public uint AddressCount;
    public VirDomainIPAddress* Addrs;
}
