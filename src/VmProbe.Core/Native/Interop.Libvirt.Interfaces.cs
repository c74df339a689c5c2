using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    /// <summary>libvirt-domain.h: a running domain's interface addresses and its XML (the guest endpoint's peer check).</summary>
    internal static unsafe partial class Libvirt
    {
        /// <summary>VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE: the libvirt network's DHCP leases.</summary>
        public const uint InterfaceAddressesSourceLease = 0;

        /// <summary>VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP: the host's neighbour table, matched by the domain's MACs.</summary>
        public const uint InterfaceAddressesSourceArp = 2;

        /// <summary>Returns the number of interfaces in <paramref name="ifaces"/> (each freed with virDomainInterfaceFree, the array with free), or -1.</summary>
        [LibraryImport(Libraries.Libvirt)]
        public static partial int virDomainInterfaceAddresses(LibvirtDomainHandle domain, out VirDomainInterface** ifaces, uint source, uint flags);

        [LibraryImport(Libraries.Libvirt)]
        public static partial void virDomainInterfaceFree(VirDomainInterface* iface);
    }
}
