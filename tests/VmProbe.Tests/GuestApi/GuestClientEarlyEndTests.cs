using System.Net;
using System.Net.Sockets;
using VmProbe.Cli;
using VmProbe.GuestApi;
using VmProbe.Tests.Infrastructure;
using VmProbe.Tests.Perf;
using VmProbe.Tests.Prometheus;
using Xunit;

namespace VmProbe.Tests.GuestApi;

/// <summary>
/// The guest clients when the host ends the session before the command (a 300 ms duration ceiling here): both must
/// say the report is partial and exit non-zero, never pair the command's time with the host's partial counts. Also
/// what <c>vmprobe guest</c> does against something that is not the guest endpoint, and the shell client's unsupported events.
/// </summary>
// FakeVcpus names threads of this process CPU n/KVM: not beside tests that discover this process as an unnamed QEMU.
[Collection(ProcessWideCollection.Name)]
public sealed class GuestClientEarlyEndTests : IDisposable
{
    private static readonly GuestIdentity Self = new("vmprobe-test-early", Guid.NewGuid());
    private readonly FakeVcpus vcpus = new(1);
    private readonly GuestApiServer server;

    public GuestClientEarlyEndTests()
    {
        var domain = vcpus.Domain(Self.Name, Self.Uuid);
        server = GuestApiServer.Start(
            new[] { new GuestApiAddress(GuestTransport.Tcp, new IPEndPoint(IPAddress.Loopback, 0), 0) },
            new FixedResolver(IPAddress.Loopback, Self), () => new[] { domain }, new ListLog(),
            GuestApiLimits.Default with { MaxDurationMs = 300 });
    }

    private string HostPort => $"127.0.0.1:{server.TcpEndpoints[0].Port}";

    private static string Script => Path.Combine(RepoPaths.Root, "scripts", "vmprobe-guest");

    public void Dispose()
    {
        server.Dispose();
        vcpus.Dispose();
    }

    [SkippableFact]
    public void VmprobeGuestSaysTheReportIsPartialWhenTheHostEndsEarly()
    {
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = ProbeRunner.Run(new[] { "guest", "-H", HostPort, "-e", "task-clock", "--", "sleep", "1.2" }, DefaultWiring.Create(), stdout, stderr, CancellationToken.None);

        Assert.True(exit != 0, "a partial report is not a success");
        Assert.Contains("partial: the host ended the session early (ceiling)", stderr.ToString());
        var text = stdout.ToString();
        Assert.Contains("counted by the host, partial: ceiling)", text);
        Assert.DoesNotContain("seconds time elapsed", text); // the command's 1.2 s would be paired with 0.3 s of counts
        Assert.Matches(@"\s0\.[3-9]\d\d seconds counted by the host \(partial: ceiling", text);
    }

    [SkippableFact]
    public void TheShellClientSaysTheReportIsPartialWhenTheHostEndsEarly()
    {
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        Skip.If(Requirements.FindCommand("nc") is null && Requirements.FindCommand("curl") is null, "neither nc nor curl is installed");
        var (exit, stdout, stderr) = Requirements.Run("/bin/sh", $"{Script} -H {HostPort} -e task-clock sleep 1.2", timeoutMs: 60_000);

        Assert.True(exit != 0, $"a partial report is not a success: {stdout}");
        Assert.True(stderr.Contains("partial: the host ended the session early (ceiling)", StringComparison.Ordinal), stderr);
        Assert.Contains("counted by the host, partial: ceiling)", stdout);
        Assert.DoesNotContain("seconds time elapsed", stdout);
    }

    [SkippableFact]
    public void TheShellClientNamesEventsTheHostCannotCount()
    {
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        Skip.If(Requirements.FindCommand("nc") is null && Requirements.FindCommand("curl") is null, "neither nc nor curl is installed");
        var (_, stdout, stderr) = Requirements.Run("/bin/sh", $"{Script} -H {HostPort} -e task-clock,instructions true", timeoutMs: 60_000);

        // Without a hardware PMU (this host) the host answers <not supported>; with one, a count: never nothing.
        Assert.True(
            System.Text.RegularExpressions.Regex.IsMatch(stdout, @"(<not supported>|\d+)\s+instructions"),
            $"instructions is neither counted nor said to be unsupported:\n{stdout}{stderr}");
    }

    [Fact]
    public async Task VmprobeGuestNamesAnEndpointThatDoesNotSpeakJson()
    {
        using var other = new TcpListener(IPAddress.Loopback, 0);
        other.Start();
        var port = ((IPEndPoint)other.LocalEndpoint).Port;
        var answer = Task.Run(() =>
        {
            using var peer = other.AcceptTcpClient();
            peer.GetStream().Write("HTTP/1.1 400 Bad Request\r\n\r\n"u8);
            Thread.Sleep(500);
        });
        var stderr = new StringWriter();
        var exit = ProbeRunner.Run(new[] { "guest", "-H", $"127.0.0.1:{port}", "true" }, DefaultWiring.Create(), new StringWriter(), stderr, CancellationToken.None);
        await answer.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(ProbeRunner.ExitFailure, exit);
        Assert.Contains($"127.0.0.1:{port} is not a VmProbe guest endpoint: it answered 'HTTP/1.1 400 Bad Request'", stderr.ToString());
    }
}
