using System.Net;
using VmProbe.GuestApi;
using VmProbe.Libvirt;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.GuestApi;

/// <summary>
/// The peer check on a real libvirtd: the live XML and virDomainInterfaceAddresses (LEASE and ARP) of a running
/// QEMU/TCG test domain, read through the production resolver, which refuses a peer that is no domain's address.
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
}
