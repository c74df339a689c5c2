using System.Runtime.InteropServices;
using VmProbe.Native;

namespace VmProbe.Libvirt;

/// <summary>The connection, part 2: what the guest endpoint needs to tell which running domain a peer address belongs to.</summary>
internal sealed unsafe partial class LibvirtConnection
{
    /// <summary>
    /// Every running domain with its XML MACs, vsock CID and the addresses libvirt knows for its interfaces (leases and ARP).
    /// A domain that vanishes meanwhile is left out; a source that fails for one domain (no libvirt network, so no
    /// leases) gives that domain no addresses from it.
    /// </summary>
    public IReadOnlyList<DomainNetwork> ListGuestNetworks() => ForEachDomain(ListActive, TryDescribeNetwork);

    private DomainNetwork? TryDescribeNetwork(LibvirtDomainHandle domain)
    {
        var namePtr = Interop.Libvirt.virDomainGetName(domain);
        var uuid = stackalloc byte[16];
        if (namePtr is null || Interop.Libvirt.virDomainGetUUID(domain, uuid) < 0)
        {
            Interop.Libvirt.virResetLastError();
            return null;
        }

        var name = Marshal.PtrToStringUTF8((IntPtr)namePtr) ?? string.Empty;
        var xmlPtr = Interop.Libvirt.virDomainGetXMLDesc(domain, 0);
        if (xmlPtr is null)
        {
            var error = LibvirtErrors.Capture("virDomainGetXMLDesc", name);
            return error.Code == LibvirtErrorCode.NoDomain ? null : throw error;
        }

        string xml;
        try
        {
            xml = Marshal.PtrToStringUTF8((IntPtr)xmlPtr) ?? string.Empty;
        }
        finally
        {
            NativeMemory.Free(xmlPtr);
        }

        var (macs, cid, nics) = DomainNetXml.ParseWithNics(xml, name);
        // Leases first: they exist only on libvirt-managed networks (dnsmasq), where they are the authoritative map.
        // Then ARP, which works on any bridge or tap: the host's neighbour table matched by the domain's MACs.
        var interfaces = new List<DomainInterfaceAddresses>();
        string? arpError = null;
        if (macs.Count > 0)
        {
            ReadAddresses(domain, Interop.Libvirt.InterfaceAddressesSourceLease, InterfaceAddressSource.Lease, interfaces);
            arpError = ReadAddresses(domain, Interop.Libvirt.InterfaceAddressesSourceArp, InterfaceAddressSource.Arp, interfaces);
        }

        return new DomainNetwork(name, new Guid(new ReadOnlySpan<byte>(uuid, 16), bigEndian: true), macs, cid, interfaces, arpError, nics);
    }

    /// <summary>Adds what one source knows; returns libvirt's error message when the source failed, else null.</summary>
    private static string? ReadAddresses(LibvirtDomainHandle domain, uint source, InterfaceAddressSource kind, List<DomainInterfaceAddresses> into)
    {
        var count = Interop.Libvirt.virDomainInterfaceAddresses(domain, out var ifaces, source, 0);
        if (count < 0)
        {
            // No libvirt network (no leases), or libvirt could not read the neighbour table: this source knows nothing.
            return LibvirtErrors.Capture("virDomainInterfaceAddresses").Message;
        }

        try
        {
            for (var i = 0; i < count; i++)
            {
                var iface = ifaces[i];
                var mac = DomainNetXml.NormalizeMac(iface->HwAddr is null ? null : Marshal.PtrToStringUTF8((IntPtr)iface->HwAddr));
                if (mac is null)
                {
                    continue;
                }

                var addresses = new List<string>((int)Math.Min(iface->AddressCount, 64u));
                for (var a = 0u; a < iface->AddressCount && a < 64; a++)
                {
                    if (iface->Addrs[a].Addr is not null && Marshal.PtrToStringUTF8((IntPtr)iface->Addrs[a].Addr) is { } text)
                    {
                        addresses.Add(text);
                    }
                }

                into.Add(new DomainInterfaceAddresses(mac, addresses, kind));
            }
        }
        finally
        {
            for (var i = 0; i < count; i++)
            {
                Interop.Libvirt.virDomainInterfaceFree(ifaces[i]);
            }

            NativeMemory.Free(ifaces);
        }

        return null;
    }
}
