using System.Net;
using System.Net.Sockets;
using VmProbe.Composition;
using VmProbe.Config;
using VmProbe.Tests.Prometheus;
using Xunit;

namespace VmProbe.Tests.GuestApi;

/// <summary>The <c>guestapi</c> key in a real probe: the endpoint listens from the first cycle and its refusals are series of the textfile.</summary>
public sealed class GuestApiRunnerTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("vmprobe-guestapi-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public async Task TheProbeListensAndCountsRefusalsInItsTextfile()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var prom = Path.Combine(dir, "vmprobe.prom");
        var config = ConfigLoader.Parse($"endpoint: {prom}\ndiscovery: process\nkvmstats: off\nkvmexits: off\nguestapi: 127.0.0.1:{port}\n", "g.yaml").Config;
        var log = new ListLog();
        using var run = ProbeRun.Start(config, log);
        Assert.Contains("guestapi", run.SourceNames);
        await run.Loop.RunOnceAsync(CancellationToken.None);

        using (var client = new GuestClient(new IPEndPoint(IPAddress.Loopback, port)))
        {
            client.Send("{\"events\":[\"task-clock\"]\n");
            var line = Assert.Single(client.ReadAll());
            Assert.Equal("malformed", line.GetProperty("code").GetString());
        }

        await run.Loop.RunOnceAsync(CancellationToken.None);
        var text = File.ReadAllText(prom);
        Assert.Contains("vmprobe_guestapi_refusals_total{reason=\"malformed\"} 1\n", text);
        Assert.Contains("vmprobe_guestapi_refusals_total{reason=\"unknown_peer\"} 0\n", text);
        Assert.Contains("vmprobe_guestapi_sessions 0\n", text);
        Assert.Single(log.Lines, l => l.Message.StartsWith("guestapi: refused 127.0.0.1", StringComparison.Ordinal));
    }
}
