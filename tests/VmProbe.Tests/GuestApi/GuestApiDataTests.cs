using System.Net;
using System.Text;
using VmProbe.Config;
using VmProbe.GuestApi;
using VmProbe.Libvirt;
using Xunit;

namespace VmProbe.Tests.GuestApi;

/// <summary>The request line, the peer -> domain rules, the domain XML's MACs and CID, and the <c>guestapi</c> key.</summary>
public class GuestApiDataTests
{
    private static readonly DomainNetwork Web = new("web", Guid.NewGuid(), new[] { "52:54:00:00:00:01" }, 3u,
        new[] { new DomainInterfaceAddresses("52:54:00:00:00:01", new[] { "192.168.122.10" }, InterfaceAddressSource.Lease) });

    private static readonly DomainNetwork Db = new("db", Guid.NewGuid(), new[] { "52:54:00:00:00:02" }, 4u,
        new[] { new DomainInterfaceAddresses("52:54:00:00:00:02", new[] { "192.168.122.20", "fd00::20" }, InterfaceAddressSource.Arp) });

    [Fact]
    public void ARequestParsesWithItsDefaults()
    {
        var request = GuestRequest.Parse(Encoding.UTF8.GetBytes("{\"events\":[\"instructions\",\"cache-misses\",\"instructions\"],\"vcpu\":1}"), GuestApiLimits.Default);
        Assert.Equal(new[] { "instructions", "cache-misses" }, request.Events);
        Assert.Equal((0, 1, (int?)null, (string?)null), (request.IntervalMs, request.Vcpu, request.DurationMs, request.ClaimedDomain));
    }

    [Theory]
    [InlineData("{\"events\":[\"a\",\"b\",\"c\"]}", "more than 2 events")]
    [InlineData("{\"events\":[]}", "events is required")]
    [InlineData("{\"events\":[\"a\"],\"duration_ms\":0}", "duration_ms must be from 1")]
    [InlineData("{\"events\":[\"a\"],\"duration_ms\":99999999}", "duration_ms must be from 1 to 60000")]
    [InlineData("{\"events\":[\"a\"],\"events\":[\"b\"]}", "given twice")]
    [InlineData("{\"events\":[\"a\"],\"vcpu\":-1}", "vcpu must be from 0")]
    [InlineData("{\"events\":[[\"a\"]]}", "events: expected a string")]
    [InlineData("[1]", "one JSON object")]
    public void BadRequestsNameTheirField(string json, string expected)
    {
        var limits = GuestApiLimits.Default with { MaxEvents = 2, MaxDurationMs = 60_000 };
        var ex = Assert.Throws<GuestApiRefusedException>(() => GuestRequest.Parse(Encoding.UTF8.GetBytes(json), limits));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void APeerMapsToTheOneDomainWhoseDeclaredMacHasItsAddress()
    {
        Assert.Equal("web", GuestAddressMap.Resolve(GuestPeer.Tcp(IPAddress.Parse("192.168.122.10")), new[] { Web, Db }).Name);
        Assert.Equal("db", GuestAddressMap.Resolve(GuestPeer.Tcp(IPAddress.Parse("::ffff:192.168.122.20")), new[] { Web, Db }).Name);
        Assert.Equal("db", GuestAddressMap.Resolve(GuestPeer.Tcp(IPAddress.Parse("fd00::20")), new[] { Web, Db }).Name);
        Assert.Equal("db", GuestAddressMap.Resolve(GuestPeer.Vsock(4), new[] { Web, Db }).Name);
    }

    [Fact]
    public void UnknownAmbiguousAndUndeclaredPeersAreRefused()
    {
        Assert.Equal(GuestRefusalReason.UnknownPeer,
            Assert.Throws<GuestApiRefusedException>(() => GuestAddressMap.Resolve(GuestPeer.Tcp(IPAddress.Loopback), new[] { Web, Db })).Reason);
        Assert.Equal(GuestRefusalReason.UnknownPeer,
            Assert.Throws<GuestApiRefusedException>(() => GuestAddressMap.Resolve(GuestPeer.Vsock(9), new[] { Web, Db })).Reason);

        // Two domains listing one address (a stale lease, a spoofed ARP reply): nobody gets it.
        var spoof = Db with { Interfaces = new[] { new DomainInterfaceAddresses("52:54:00:00:00:02", new[] { "192.168.122.10" }, InterfaceAddressSource.Arp) } };
        var ambiguous = Assert.Throws<GuestApiRefusedException>(() => GuestAddressMap.Resolve(GuestPeer.Tcp(IPAddress.Parse("192.168.122.10")), new[] { Web, spoof }));
        Assert.Equal(GuestRefusalReason.AmbiguousPeer, ambiguous.Reason);
        Assert.Contains("'web'", ambiguous.Message);

        // An address listed under a MAC the domain's XML does not declare is not proof of identity.
        var undeclared = Web with { XmlMacs = new[] { "52:54:00:00:00:99" } };
        Assert.Equal(GuestRefusalReason.UnknownPeer,
            Assert.Throws<GuestApiRefusedException>(() => GuestAddressMap.Resolve(GuestPeer.Tcp(IPAddress.Parse("192.168.122.10")), new[] { undeclared })).Reason);
    }

    [Fact]
    public void DomainXmlGivesInterfaceMacsAndTheVsockCidOnly()
    {
        const string xml = """
            <domain type='kvm'><name>web</name><metadata><mac address='52:54:00:ff:ff:ff'/></metadata>
              <devices>
                <interface type='network'><mac address='52:54:00:AB:CD:01'/><source network='default'/></interface>
                <interface type='bridge'><mac address='not-a-mac'/></interface>
                <hostdev><mac address='52:54:00:ff:ff:fe'/></hostdev>
                <vsock model='virtio'><cid auto='no' address='7'/></vsock>
              </devices>
            </domain>
            """;
        var (macs, cid) = DomainNetXml.Parse(xml, "web");
        Assert.Equal(new[] { "52:54:00:ab:cd:01" }, macs);
        Assert.Equal(7u, cid);
        Assert.Throws<VmProbeException>(() => DomainNetXml.Parse("<!DOCTYPE d [<!ENTITY x 'y'>]><domain/>", "evil"));
        Assert.Throws<VmProbeException>(() => DomainNetXml.Parse("<network/>", "net"));
    }

    [Fact]
    public void TheGuestApiKeyTakesAddressesAndIsOffByDefault()
    {
        Assert.Empty(ConfigLoader.Parse("prefix: p\n", "d.yaml").Config.GuestApi);
        var yaml = ConfigLoader.Parse("guestapi:\n  - 192.168.122.1:9999\n  - vsock:9999\n", "g.yaml").Config;
        var keyValue = ConfigLoader.Parse("guestapi=192.168.122.1:9999, vsock:9999\n", "config.yaml").Config;
        foreach (var config in new[] { yaml, keyValue })
        {
            Assert.Equal(new[] { "192.168.122.1:9999", "vsock:9999" }, config.GuestApi.Select(a => a.ToString()));
            GuestApiOptions options = config;
            Assert.Equal(config.Url, options.LibvirtUri);
        }

        Assert.Contains(Composition.SourceRegistry.EnabledFor(yaml), s => s.Name == GuestApiSource.SourceName);
        Assert.DoesNotContain(Composition.SourceRegistry.EnabledFor(ConfigLoader.Parse("prefix: p\n", "d.yaml").Config), s => s.Name == GuestApiSource.SourceName);
    }

    [Theory]
    [InlineData("guestapi: 0.0.0.0:9999\n", "listens on every interface")]
    [InlineData("guestapi: 192.168.122.1\n", "is not ADDRESS:PORT")]
    [InlineData("guestapi: 192.168.122.1:0\n", "is not ADDRESS:PORT")]
    [InlineData("guestapi: vsock:x\n", "vsock:PORT")]
    [InlineData("guestapi: a:1, b:2, c:3, d:4, e:5\n", "at most 4")]
    public void BadGuestApiValuesNameTheKey(string text, string expected)
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(text, "bad.yaml"));
        var error = Assert.Single(ex.Errors);
        Assert.Equal((1, "guestapi"), (error.Line, error.Key));
        Assert.Contains(expected, error.Message);
    }
}
