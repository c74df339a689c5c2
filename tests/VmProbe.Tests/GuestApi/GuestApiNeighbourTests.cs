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
        var failed = new DomainNetwork("web", Guid.NewGuid(), new[] { "52:54:00:00:00:01" }, null, Array.Empty<DomainInterfaceAddresses>(), "wrong nlmsg len");
        var answered = new DomainNetwork("db", Guid.NewGuid(), new[] { "52:54:00:00:00:02" }, null, Array.Empty<DomainInterfaceAddresses>());
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
