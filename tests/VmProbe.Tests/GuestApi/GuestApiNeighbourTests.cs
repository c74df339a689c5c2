using System.Net;
using VmProbe.GuestApi;
using VmProbe.Libvirt;
using Xunit;

namespace VmProbe.Tests.GuestApi;

/// <summary>The host's neighbour table (/proc/net/arp), read where libvirt's ARP source fails, and how it maps peers to domains.</summary>
public class GuestApiNeighbourTests
{
    private const string Header = "IP address       HW type     Flags       HW address            Mask     Device\n";

    [Fact]
    public void OnlyCompleteIpv4EntriesWithAMacAreRead()
    {
        var text = Header
            + "10.231.7.2       0x1         0x2         52:54:00:AB:cd:01     *        vmpth1\n"
            + "10.231.7.6       0x1         0x0         52:54:00:ab:cd:02     *        vmpth2\n" // incomplete: no answer yet
            + "10.231.7.10      0x1         0x6         00:00:00:00:00:00     *        vmpth3\n"
            + "1                0x1         0x2         52:54:00:ab:cd:04     *        eth0\n" // not a dotted quad
            + "fd00::1          0x1         0x2         52:54:00:ab:cd:05     *        eth0\n"
            + "10.231.7.14      0x1         zz          52:54:00:ab:cd:06     *        eth0\n"
            + "10.231.7.18      0x1         0x2         52-54-00-ab-cd-07     *        eth0\n"
            + "10.231.7.22 0x1 0x2\n"
            + "\0\0\0\n"
            + "192.168.122.5    0x1         0xa         52:54:00:ab:cd:08     *        virbr0\n";

        var entries = HostNeighbourTable.Parse(new StringReader(text));

        Assert.Equal(
            new[] { ("10.231.7.2", "52:54:00:ab:cd:01", "vmpth1"), ("192.168.122.5", "52:54:00:ab:cd:08", "virbr0") },
            entries.Select(e => (e.Address.ToString(), e.Mac, e.Device)));
    }

    [Fact]
    public void AnEndlessTableIsReadOnlyUpToItsBound()
    {
        var reader = new EndlessReader();
        var entries = HostNeighbourTable.Parse(reader);
        Assert.Equal(HostNeighbourTable.MaxEntries, entries.Count);
        Assert.Equal(HostNeighbourTable.MaxEntries + 1, reader.Lines);
    }

    [Fact]
    public void NeighboursFillInOnlyWhereLibvirtsArpFailedAndOnlyUnderDeclaredMacs()
    {
        var failed = new DomainNetwork("web", Guid.NewGuid(), new[] { "52:54:00:00:00:01" }, null, Array.Empty<DomainInterfaceAddresses>(), "wrong nlmsg len",
            new[] { new DomainNic("bridge", "52:54:00:00:00:01", new[] { "vnet0", "br0" }) });
        var answered = new DomainNetwork("db", Guid.NewGuid(), new[] { "52:54:00:00:00:02" }, null, Array.Empty<DomainInterfaceAddresses>(), null,
            new[] { new DomainNic("bridge", "52:54:00:00:00:02", new[] { "vnet1", "br0" }) });
        var neighbours = new[]
        {
            new NeighbourEntry(IPAddress.Parse("10.0.0.1"), "52:54:00:00:00:01", "br0"),
            new NeighbourEntry(IPAddress.Parse("10.0.0.2"), "52:54:00:00:00:02", "br0"),
            new NeighbourEntry(IPAddress.Parse("10.0.0.3"), "52:54:00:00:00:03", "br0"),
        };

        var domains = GuestAddressMap.WithNeighbours(new[] { failed, answered }, neighbours);

        var added = Assert.Single(domains[0].Interfaces);
        Assert.Equal(("52:54:00:00:00:01", InterfaceAddressSource.Neighbour), (added.Mac, added.Source));
        Assert.Equal(new[] { "10.0.0.1" }, added.Addresses);
        Assert.Same(answered, domains[1]); // libvirt answered for it: its (empty) ARP data stands
        Assert.Equal("web", GuestAddressMap.Resolve(GuestPeer.Tcp(IPAddress.Parse("10.0.0.1")), domains).Name);
        Assert.Equal(GuestRefusalReason.UnknownPeer,
            Assert.Throws<GuestApiRefusedException>(() => GuestAddressMap.Resolve(GuestPeer.Tcp(IPAddress.Parse("10.0.0.2")), domains)).Reason);
        Assert.Equal(GuestRefusalReason.UnknownPeer,
            Assert.Throws<GuestApiRefusedException>(() => GuestAddressMap.Resolve(GuestPeer.Tcp(IPAddress.Parse("10.0.0.3")), domains)).Reason);
    }

    [Theory]
    [InlineData("bridge", "br1", "eth0")]      // the right MAC behind another host interface: someone else claiming it
    [InlineData("ethernet", "vnet9", "br0")]   // a tap NIC, the MAC seen on a bridge the domain is not on
    [InlineData("user", "br0", "br0")]         // a user-mode NIC has no host interface to trust at all
    [InlineData("direct", "br0", "br0")]       // nor does a type VmProbe does not know
    public void ANeighbourEntryCountsOnlyOnAnInterfaceOfTheDomainsNic(string type, string nicDevice, string seenOn)
    {
        const string mac = "52:54:00:00:00:07";
        var domain = new DomainNetwork("web", Guid.NewGuid(), new[] { mac }, null, Array.Empty<DomainInterfaceAddresses>(), "wrong nlmsg len",
            new[] { new DomainNic(type, mac, new[] { nicDevice }) });
        var entry = new NeighbourEntry(IPAddress.Parse("10.0.0.7"), mac, seenOn);

        var refused = GuestAddressMap.WithNeighbours(new[] { domain }, new[] { entry });
        Assert.Empty(refused[0].Interfaces);

        // The same entry on the NIC's own device is accepted (for the types whose frames reach the host there).
        var onIts = GuestAddressMap.WithNeighbours(new[] { domain }, new[] { entry with { Device = nicDevice } });
        Assert.Equal(type is "bridge" or "ethernet" ? 1 : 0, onIts[0].Interfaces.Count);
    }

    [Fact]
    public void TheLiveXmlGivesEachNicItsTypeMacAndHostDevices()
    {
        const string xml = """
            <domain type='kvm'><name>web</name><devices>
              <interface type='network'><mac address='52:54:00:AA:00:01'/><source network='default' bridge='virbr0'/><target dev='vnet3'/></interface>
              <interface type='user'><mac address='52:54:00:aa:00:02'/></interface>
              <interface type='bridge'><source bridge='br-lan'/><mac address='52:54:00:aa:00:03'/><target dev='a-name-far-too-long-for-a-link'/></interface>
            </devices></domain>
            """;
        var (macs, _, nics) = DomainNetXml.ParseWithNics(xml, "web");

        Assert.Equal(3, macs.Count);
        Assert.Equal(
            new[] { ("network", "52:54:00:aa:00:01", "virbr0,vnet3"), ("user", "52:54:00:aa:00:02", ""), ("bridge", "52:54:00:aa:00:03", "br-lan") },
            nics.Select(n => (n.Type, n.Mac ?? "-", string.Join(',', n.HostDevices.Order()))));
    }

    /// <summary>A table that never ends: the parser must stop by itself.</summary>
    private sealed class EndlessReader : TextReader
    {
        public int Lines { get; private set; }

        public override string? ReadLine()
        {
            Lines++;
            return $"10.1.{Lines / 256 % 256}.{Lines % 256}  0x1  0x2  52:54:00:00:00:01  *  eth0";
        }
    }
}
