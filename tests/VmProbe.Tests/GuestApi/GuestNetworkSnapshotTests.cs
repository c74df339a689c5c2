using System.Net;
using VmProbe.GuestApi;
using VmProbe.Libvirt;
using VmProbe.Tests.Prometheus;
using Xunit;

namespace VmProbe.Tests.GuestApi;

/// <summary>
/// The peer lookup's shared snapshot: many connections at once cost one libvirt listing (over real TCP on 127.0.0.1,
/// with a counting, slow listing standing for libvirt), a stale or failed one is loaded again.
/// </summary>
public sealed class GuestNetworkSnapshotTests : IDisposable
{
    private const string Mac = "52:54:00:00:00:17";
    private int loads;
    private GuestApiServer? server;

    public void Dispose() => server?.Dispose();

    private IReadOnlyList<DomainNetwork> SlowListing(string address)
    {
        Interlocked.Increment(ref loads);
        Thread.Sleep(300); // libvirt's listing takes a while: every connection arriving meanwhile must share it
        return new[]
        {
            new DomainNetwork("vmprobe-test-snapshot", Guid.NewGuid(), new[] { Mac }, null,
                new[] { new DomainInterfaceAddresses(Mac, new[] { address }, InterfaceAddressSource.Lease) }),
        };
    }

    private sealed class SnapshotResolver(GuestNetworkSnapshot snapshot) : IGuestPeerResolver
    {
        public GuestIdentity Resolve(GuestPeer peer, CancellationToken cancellationToken) => throw new InvalidOperationException("the endpoint must call ResolveAsync");

        public ValueTask<GuestIdentity> ResolveAsync(GuestPeer peer, CancellationToken cancellationToken) => snapshot.ResolveAsync(peer, cancellationToken);
    }

    [Fact]
    public async Task ManyConnectionsAtOnceCostOneListing()
    {
        var snapshot = new GuestNetworkSnapshot(() => SlowListing("127.0.0.1"));
        server = GuestApiServer.Start(
            new[] { new GuestApiAddress(GuestTransport.Tcp, new IPEndPoint(IPAddress.Loopback, 0), 0) },
            new SnapshotResolver(snapshot), Array.Empty<VmDomain>, new ListLog(), GuestApiLimits.Default with { MaxConnectionsPerPeer = 32 });

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() =>
        {
            using var client = new GuestClient(server.TcpEndpoints[0]);
            client.Send("{\"events\":[\"task-clock\"]}\n");
            return Assert.Single(client.ReadAll()).GetProperty("code").GetString();
        })));

        // The peer was found (its domain is simply not counted by the probe here) by every connection, on one listing.
        Assert.All(answers, code => Assert.Equal("domain_not_running", code));
        Assert.Equal(1, loads);
    }

    [Fact]
    public async Task AStaleOrFailedListingIsLoadedAgain()
    {
        var fail = true;
        var snapshot = new GuestNetworkSnapshot(
            () => fail ? throw new GuestApiRefusedException(GuestRefusalReason.Unavailable, "libvirt is away") : SlowListing("192.0.2.9"),
            ttl: TimeSpan.FromMilliseconds(800), minAgeForRefresh: TimeSpan.FromMilliseconds(100));
        var peer = GuestPeer.Tcp(IPAddress.Parse("192.0.2.9"));

        await Assert.ThrowsAsync<GuestApiRefusedException>(() => snapshot.ResolveAsync(peer, default).AsTask());
        fail = false;
        Assert.Equal("vmprobe-test-snapshot", (await snapshot.ResolveAsync(peer, default)).Name); // the failure was not kept
        Assert.Equal("vmprobe-test-snapshot", (await snapshot.ResolveAsync(peer, default)).Name); // still fresh: reused
        Assert.Equal(1, loads);
        await Task.Delay(900);
        Assert.Equal("vmprobe-test-snapshot", (await snapshot.ResolveAsync(peer, default)).Name); // stale: loaded again
        Assert.Equal(2, loads);
    }

    [Fact]
    public async Task AnUnknownPeerMayAskForAFresherListingButNotForEveryConnection()
    {
        var address = "192.0.2.1";
        var snapshot = new GuestNetworkSnapshot(() => SlowListing(address), ttl: TimeSpan.FromSeconds(30), minAgeForRefresh: TimeSpan.FromMilliseconds(500));
        var booted = GuestPeer.Tcp(IPAddress.Parse("192.0.2.2"));
        await Assert.ThrowsAsync<GuestApiRefusedException>(() => snapshot.ResolveAsync(booted, default).AsTask());
        await Assert.ThrowsAsync<GuestApiRefusedException>(() => snapshot.ResolveAsync(booted, default).AsTask());
        Assert.Equal(1, loads); // a listing younger than 500 ms (300 of them loading) is not loaded again for a stranger

        address = "192.0.2.2"; // the guest that just booted got its lease
        await Task.Delay(600);
        Assert.Equal("vmprobe-test-snapshot", (await snapshot.ResolveAsync(booted, default)).Name);
        Assert.Equal(2, loads);
    }
}
