using System.Net;
using System.Text.Json;
using VmProbe.GuestApi;
using VmProbe.Tests.Infrastructure;
using VmProbe.Tests.Perf;
using VmProbe.Tests.Prometheus;
using Xunit;

namespace VmProbe.Tests.GuestApi;

/// <summary>
/// The guest endpoint over real TCP on 127.0.0.1: refusals (bad requests, a peer claiming another VM, too many sessions)
/// and the accepted path, counting this test process's threads as a domain's (the peer check is the resolver seam here;
/// GuestApiLibvirtTests checks it on libvirt's data).
/// </summary>
// FakeVcpus names threads of this process CPU n/KVM: not beside tests that discover this process as an unnamed QEMU.
[Collection(ProcessWideCollection.Name)]
public sealed class GuestApiTcpTests : IDisposable
{
    private static readonly GuestIdentity Self = new("vmprobe-test-self", Guid.Parse("0b7e4a32-5d1f-4c3e-9f11-2a6c1d9e0b01"));
    private readonly FakeVcpus vcpus = new(1);
    private readonly ListLog log = new();
    private GuestApiServer? server;

    public void Dispose()
    {
        server?.Dispose();
        vcpus.Dispose();
    }

    private GuestApiServer Start(GuestApiLimits? limits = null, IGuestPeerResolver? resolver = null)
    {
        var domain = vcpus.Domain(Self.Name, Self.Uuid);
        server = GuestApiServer.Start(
            new[] { new GuestApiAddress(GuestTransport.Tcp, new IPEndPoint(IPAddress.Loopback, 0), 0) },
            resolver ?? new FixedResolver(IPAddress.Loopback, Self),
            () => new[] { domain },
            log,
            limits);
        return server;
    }

    private GuestClient Connect() => new(server!.TcpEndpoints[0]);

    private static void AssertError(JsonElement? line, string code)
    {
        Assert.NotNull(line);
        Assert.Equal("error", line!.Value.GetProperty("type").GetString());
        Assert.Equal(code, line.Value.GetProperty("code").GetString());
    }

    [Fact]
    public void AnOversizedRequestIsRefusedUnreadAndCounted()
    {
        Start(GuestApiLimits.Default with { MaxRequestBytes = 512 });
        using var client = Connect();
        client.Send(new string('a', 5000));
        var lines = client.ReadAll();
        AssertError(Assert.Single(lines), "oversized");
        Assert.Contains("512", lines[0].GetProperty("message").GetString());
        Assert.Equal(1, server!.Stats.Refusals(GuestRefusalReason.Oversized));
    }

    [Theory]
    [InlineData("not json\n", "malformed", "JSON")]
    [InlineData("{\"events\":[\"task-clock\"]} trailing\n", "malformed", "one JSON object")]
    [InlineData("{\"events\":\"task-clock\"}\n", "invalid_request", "events")]
    [InlineData("{\"events\":[\"task-clock\"],\"interval_ms\":5}\n", "invalid_request", "interval_ms")]
    [InlineData("{\"events\":[\"task-clock\"],\"pid\":1}\n", "invalid_request", "'pid'")]
    [InlineData("{\"events\":[\"no-such-event\"]}\n", "invalid_request", "no-such-event")]
    [InlineData("{\"events\":[\"task-clock\"],\"vcpu\":7}\n", "invalid_request", "vcpu 7")]
    public void AMalformedRequestGetsAnErrorLineNamingTheFieldAndTheConnectionCloses(string request, string code, string named)
    {
        Start();
        using var client = Connect();
        client.Send(request);
        var lines = client.ReadAll();
        AssertError(Assert.Single(lines), code);
        Assert.Contains(named, lines[0].GetProperty("message").GetString());
        Assert.Equal(1, server!.Stats.TotalRefusals);
    }

    [Fact]
    public void ARequestThatNeverEndsItsLineTimesOut()
    {
        Start(GuestApiLimits.Default with { RequestTimeoutMs = 300 });
        using var client = Connect();
        client.Send("{\"events\":");
        AssertError(Assert.Single(client.ReadAll()), "timeout");
    }

    [Fact]
    public void APeerClaimingAnotherVmIsRefused()
    {
        Start();
        using var client = Connect();
        client.Send("{\"events\":[\"task-clock\"],\"domain\":\"someone-else\"}\n");
        var line = Assert.Single(client.ReadAll());
        AssertError(line, "claim_mismatch");
        Assert.Contains(Self.Name, line.GetProperty("message").GetString());
        Assert.Equal(1, server!.Stats.Refusals(GuestRefusalReason.ClaimMismatch));
    }

    [Fact]
    public void AnUnknownPeerIsRefusedAndLoggedOncePerPeer()
    {
        Start(resolver: new FixedResolver(IPAddress.Parse("192.0.2.7"), Self));
        for (var i = 0; i < 3; i++)
        {
            using var client = Connect();
            client.Send("{\"events\":[\"task-clock\"]}\n");
            AssertError(Assert.Single(client.ReadAll()), "unknown_peer");
        }

        Assert.Equal(3, server!.Stats.Refusals(GuestRefusalReason.UnknownPeer));
        Assert.Single(log.Lines, l => l.Message.Contains("guestapi: refused 127.0.0.1", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void TooManySessionsOfOneVmAreRefusedWhileTheFirstRuns()
    {
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        Start(GuestApiLimits.Default with { MaxSessionsPerVm = 1 });
        using var first = Connect();
        first.Send("{\"events\":[\"task-clock\"]}\n");
        Assert.Equal("start", first.ReadLine()!.Value.GetProperty("type").GetString());

        using var second = Connect();
        second.Send("{\"events\":[\"task-clock\"]}\n");
        AssertError(Assert.Single(second.ReadAll()), "too_many_sessions_for_vm");

        first.Send("end\n"); // the guest's command finished: summary, then close
        var rest = first.ReadAll();
        Assert.Equal("closed", rest[^1].GetProperty("ended").GetString());
        Assert.Equal(0, server!.Stats.SessionsActive);
    }

    [SkippableFact]
    public void TooManySessionsInTotalAreRefused()
    {
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        Start(GuestApiLimits.Default with { MaxSessions = 1 });
        using var first = Connect();
        first.Send("{\"events\":[\"task-clock\"]}\n");
        Assert.Equal("start", first.ReadLine()!.Value.GetProperty("type").GetString());
        using var second = Connect();
        second.Send("{\"events\":[\"task-clock\"]}\n");
        AssertError(Assert.Single(second.ReadAll()), "too_many_sessions");
        Assert.Equal(1, server!.Stats.Refusals(GuestRefusalReason.TooManySessions));
    }

    [SkippableFact]
    public void AnAcceptedSessionStreamsIntervalsAndASummaryOfItsOwnThreads()
    {
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        Start();
        using var client = Connect();
        client.Send("{\"events\":[\"task-clock\",\"context-switches\"],\"interval_ms\":200,\"domain\":\"" + Self.Name + "\"}\n");
        var start = client.ReadLine()!.Value;
        vcpus.Workers[0].Do(() => WorkerThread.SpinCpu(TimeSpan.FromMilliseconds(300)));
        Thread.Sleep(450); // at least two interval lines, however fast the spin was
        client.Send("end\n"); // the guest's command is done: until-closed sessions end with the summary
        var lines = client.ReadAll();

        Assert.Equal("start", start.GetProperty("type").GetString());
        Assert.Equal(Self.Uuid.ToString(), start.GetProperty("uuid").GetString());
        Assert.Equal(new[] { "task_clock", "context_switches" }, start.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("event").GetString()));
        var intervals = lines.Where(l => l.GetProperty("type").GetString() == "interval").ToList();
        Assert.True(intervals.Count >= 2, $"{intervals.Count} interval lines");
        Assert.Equal(Enumerable.Range(1, intervals.Count), intervals.Select(i => i.GetProperty("seq").GetInt32()));
        var summary = lines[^1];
        Assert.Equal("summary", summary.GetProperty("type").GetString());
        Assert.Equal("closed", summary.GetProperty("ended").GetString());

        // The vCPU thread ran 300 ms of CPU time: its task-clock in the summary says so (ns), and it is part of the domain's.
        var counters = summary.GetProperty("counters").EnumerateArray().ToList();
        var vcpuClock = counters.Single(c => c.GetProperty("event").GetString() == "task_clock" && c.TryGetProperty("vcpu", out var v) && v.GetInt32() == 0).GetProperty("value").GetDouble();
        var domainClock = counters.Single(c => c.GetProperty("event").GetString() == "task_clock" && !c.TryGetProperty("vcpu", out _)).GetProperty("value").GetDouble();
        Assert.InRange(vcpuClock, 290e6, 1.5e9);
        Assert.True(domainClock >= vcpuClock, $"domain {domainClock} < vcpu {vcpuClock}");
        var summed = intervals.SelectMany(i => i.GetProperty("counters").EnumerateArray())
            .Where(c => c.GetProperty("event").GetString() == "task_clock" && c.TryGetProperty("vcpu", out _)).Sum(c => c.GetProperty("value").GetDouble());
        Assert.True(summed <= vcpuClock + 1, "interval deltas add up to no more than the whole session");
        Assert.Equal(1, server!.Stats.SessionsStarted);
    }

    [SkippableFact]
    public void OneVcpuAskedForGivesOnlyThatVcpu()
    {
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        Start();
        using var client = Connect();
        client.Send("{\"events\":[\"task-clock\"],\"vcpu\":0,\"duration_ms\":200}\n");
        var summary = client.ReadAll()[^1];
        var counter = Assert.Single(summary.GetProperty("counters").EnumerateArray());
        Assert.Equal(0, counter.GetProperty("vcpu").GetInt32());
    }
}
