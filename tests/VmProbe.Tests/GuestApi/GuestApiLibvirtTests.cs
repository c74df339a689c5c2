using System.Net;
using VmProbe.GuestApi;
using VmProbe.Libvirt;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.GuestApi;

/// <summary>
/// The peer check on a real libvirtd: the live XML and virDomainInterfaceAddresses (LEASE and ARP) of a running
/// QEMU/TCG test domain, read through the production resolver, which refuses a peer that is no domain's address, and
/// fills in from the host's neighbour table where libvirt's ARP source fails.
/// </summary>
[Collection(LibvirtdCollection.Name)]
public sealed class GuestApiLibvirtTests(LibvirtdHost host)
{
    [SkippableFact]
    public void TheResolverReadsRealDomainsAndRefusesAnUnknownPeer()
    {
        Skip.IfNot(host.Available, host.SkipReason);
        using var domain = host.StartDomain(LibvirtdHost.UniqueName("guestapi"));

        using (var connection = LibvirtConnection.OpenReadOnly(LibvirtdHost.Uri))
        {
            var network = Assert.Single(connection.ListGuestNetworks(), n => n.Name == domain.Name);
            Assert.Equal(domain.Uuid, network.Uuid);
            Assert.Empty(network.XmlMacs); // the test domain has no NIC: no address can ever be it
            Assert.Empty(network.Interfaces);
        }

        using var resolver = new LibvirtPeerResolver(LibvirtdHost.Uri, NullProbeLog.Instance);
        var refused = Assert.Throws<GuestApiRefusedException>(() => resolver.Resolve(GuestPeer.Tcp(IPAddress.Loopback), CancellationToken.None));
        Assert.Equal(GuestRefusalReason.UnknownPeer, refused.Reason);
        Assert.Contains("127.0.0.1 is not the address of any running domain", refused.Message);
        Assert.Equal(GuestRefusalReason.UnknownPeer,
            Assert.Throws<GuestApiRefusedException>(() => resolver.Resolve(GuestPeer.Vsock(3), CancellationToken.None)).Reason);
    }

    [SkippableFact]
    public void TheNeighbourTableStandsInOnlyWhereLibvirtsArpSourceFails()
    {
        Skip.IfNot(host.Available, host.SkipReason);
        var mac = GuestNetns.RandomMac();
        using var domain = host.StartDomain(LibvirtdHost.UniqueName("guestapi-arp"), nic: true, mac: mac);
        string? arpError;
        string tap;
        using (var connection = LibvirtConnection.OpenReadOnly(LibvirtdHost.Uri))
        {
            var network = Assert.Single(connection.ListGuestNetworks(), n => n.Name == domain.Name);
            Assert.Equal(new[] { mac }, network.XmlMacs);
            arpError = network.ArpError; // libvirt 9.0 on Linux 6.x: "wrong nlmsg len"
            var nic = Assert.Single(network.Nics!); // the live XML's tap, libvirt's name for it
            Assert.Equal(("ethernet", mac), (nic.Type, nic.Mac));
            tap = Assert.Single(nic.HostDevices);
        }

        var peer = GuestPeer.Tcp(IPAddress.Parse("10.239.1.2")); // outside GuestNetns's range: no real entry has it
        var elsewhere = GuestPeer.Tcp(IPAddress.Parse("10.239.1.3")); // the same MAC seen behind another interface
        var table = Path.Combine(Path.GetTempPath(), $"vmprobe-arp-{Guid.NewGuid():N}");
        File.WriteAllText(table, "IP address       HW type     Flags       HW address            Mask     Device\n"
            + $"10.239.1.2       0x1         0x2         {mac}     *        {tap}\n"
            + $"10.239.1.3       0x1         0x2         {mac}     *        eth9\n");
        try
        {
            var log = new VmProbe.Tests.Prometheus.ListLog();
            using (var resolver = new LibvirtPeerResolver(LibvirtdHost.Uri, log, neighbourTable: table))
            {
                if (arpError is null)
                {
                    // libvirt read the real table: the file is not consulted, and the real table does not have the peer.
                    Assert.Throws<GuestApiRefusedException>(() => resolver.Resolve(peer, CancellationToken.None));
                    return;
                }

                Assert.Equal(domain.Name, resolver.Resolve(peer, CancellationToken.None).Name);
                Assert.Equal(GuestRefusalReason.UnknownPeer, Assert.Throws<GuestApiRefusedException>(() => resolver.Resolve(elsewhere, CancellationToken.None)).Reason);
                Assert.Single(log.Lines, l => l.Message.Contains("the host's neighbour table", StringComparison.Ordinal));
            }

            using var blind = new LibvirtPeerResolver(LibvirtdHost.Uri, log, neighbourTable: table + ".missing");
            Assert.Equal(GuestRefusalReason.UnknownPeer, Assert.Throws<GuestApiRefusedException>(() => blind.Resolve(peer, CancellationToken.None)).Reason);
            Assert.Single(log.Lines, l => l.Message.Contains("cannot be read", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(table);
        }
    }
}
