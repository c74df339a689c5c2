using System.Net;
using System.Text;
using System.Text.Json;
using VmProbe.GuestApi;
using VmProbe.Tests.Infrastructure;
using VmProbe.Tests.Perf;
using VmProbe.Tests.Prometheus;
using Xunit;

namespace VmProbe.Tests.GuestApi;

/// <summary>
/// What a hostile peer can send or hold, over real TCP on 127.0.0.1: bytes that are not UTF-8, refusals after an
/// accepted session (still logged), and many connections from one address (they cannot crowd out another peer).
/// </summary>
// FakeVcpus names threads of this process CPU n/KVM: not beside tests that discover this process as an unnamed QEMU.
[Collection(ProcessWideCollection.Name)]
public sealed class GuestApiHostileTests : IDisposable
{
    private static readonly GuestIdentity Self = new("vmprobe-test-hostile", Guid.Parse("0b7e4a32-5d1f-4c3e-9f11-2a6c1d9e0b02"));
    private readonly FakeVcpus vcpus = new(1);
    private readonly ListLog log = new();
    private GuestApiServer? server;

    public void Dispose()
    {
        server?.Dispose();
        vcpus.Dispose();
    }

    private GuestApiServer Start(IPAddress peer, GuestApiLimits? limits = null)
    {
        var domain = vcpus.Domain(Self.Name, Self.Uuid);
        server = GuestApiServer.Start(
            new[] { new GuestApiAddress(GuestTransport.Tcp, new IPEndPoint(IPAddress.Loopback, 0), 0) },
            new FixedResolver(peer, Self), () => new[] { domain }, log, limits);
        return server;
    }

    private IPEndPoint Endpoint => server!.TcpEndpoints[0];

    private static string Code(JsonElement line) => line.GetProperty("type").GetString() == "error" ? line.GetProperty("code").GetString()! : line.GetProperty("type").GetString()!;

    [Fact]
    public void InvalidUtf8InAStringIsAMalformedRequestAnsweredCountedAndLoggedOncePerPeer()
    {
        Start(IPAddress.Loopback);
        for (var i = 0; i < 3; i++)
        {
            using var client = new GuestClient(Endpoint);
            client.Send(Encoding.ASCII.GetBytes("{\"events\":[\"").Concat(new byte[] { 0xff, 0xfe }).Concat(Encoding.ASCII.GetBytes("\"]}\n")).ToArray());
            var line = Assert.Single(client.ReadAll());
            Assert.Equal("malformed", Code(line));
            Assert.Contains("UTF-8", line.GetProperty("message").GetString());
        }

        Assert.Equal(3, server!.Stats.Refusals(GuestRefusalReason.Malformed));
        Assert.Single(log.Lines, l => l.Message.Contains("guestapi", StringComparison.Ordinal));
    }

    public static TheoryData<string> HostileLines() => new()
    {
        "7b226576656e7473223a5b22ff225d7d",             // {"events":["\xff"]}
        "7b22ff223a317d",                               // a property name that is not UTF-8
        "7b226576656e7473223a5b22c0af225d7d",           // an overlong encoding of '/'
        "7b226576656e7473223a5b22eda080225d7d",         // a UTF-16 surrogate encoded as UTF-8
        "7b226576656e7473223a5b225c7564383030225d7d",   // {"events":["\ud800"]}: a lone surrogate escape
        "7b226576656e7473223a5b5b5b5b5b5d5d5d5d5d7d",   // nested past the depth limit
        "7b226576656e7473223a5b2278225d2c22766370755f6d73223a312e3565393939397d", // a huge number
        "7b226475726174696f6e5f6d73223a2d3165333030307d", // a huge negative number
        "00000000",
        "efbbbf7b7d",                                   // a BOM, then {}
        "7b7d7b7d",
        "5b5d",
    };

    [Theory]
    [MemberData(nameof(HostileLines))]
    public void NoHostileLineThrowsAnythingButARefusal(string hex)
    {
        var line = Convert.FromHexString(hex);
        var error = Record.Exception(() => GuestRequest.Parse(line, GuestApiLimits.Default));
        var refused = Assert.IsType<GuestApiRefusedException>(error);
        Assert.False(string.IsNullOrWhiteSpace(refused.Message));
    }

    [SkippableFact]
    public void ARefusalAfterAnAcceptedSessionIsStillLogged()
    {
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        Start(IPAddress.Loopback);
        using (var accepted = new GuestClient(Endpoint))
        {
            accepted.Send("{\"events\":[\"task-clock\"],\"duration_ms\":100}\n");
            Assert.Equal("summary", Code(accepted.ReadAll()[^1]));
        }

        using var claiming = new GuestClient(Endpoint);
        claiming.Send("{\"events\":[\"task-clock\"],\"domain\":\"someone-else\"}\n");
        Assert.Equal("claim_mismatch", Code(Assert.Single(claiming.ReadAll())));
        Assert.Single(log.Lines, l => l.Message.Contains("guestapi: refused 127.0.0.1", StringComparison.Ordinal) && l.Message.Contains("someone-else", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void OneAddressHoldingItsCapCannotMakeAnotherPeersRequestFail()
    {
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        var victim = IPAddress.Parse("127.0.0.2");
        // Global cap: MaxSessions + 16 = 17 connections; one stranger opens more than that and sends nothing.
        Start(victim, GuestApiLimits.Default with { MaxSessions = 1, MaxConnectionsPerPeer = 4, RequestTimeoutMs = 30_000 });
        var stranger = Enumerable.Range(0, 20).Select(_ => new GuestClient(Endpoint)).ToList();
        try
        {
            // Past its 4, each of the stranger's connections is answered at once and closed.
            var refused = stranger.Skip(4).Select(c => Code(Assert.Single(c.ReadAll()))).ToList();
            Assert.All(refused, code => Assert.Equal("too_many_connections", code));
            Assert.Equal(16, server!.Stats.Refusals(GuestRefusalReason.TooManyConnections));

            using var guest = new GuestClient(Endpoint, victim);
            guest.Send("{\"events\":[\"task-clock\"],\"duration_ms\":100}\n");
            var lines = guest.ReadAll();
            Assert.Equal("start", Code(lines[0]));
            Assert.Equal("summary", Code(lines[^1]));
        }
        finally
        {
            stranger.ForEach(c => c.Dispose());
        }
    }
}
