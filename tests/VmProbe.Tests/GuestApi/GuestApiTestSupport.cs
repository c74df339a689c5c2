using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using VmProbe.Composition;
using VmProbe.Config;
using VmProbe.GuestApi;
using VmProbe.Tests.Infrastructure;
using VmProbe.Tests.Prometheus;

namespace VmProbe.Tests.GuestApi;

/// <summary>A resolver seam: the given peer address is the given domain, anything else unknown (tests of the parts after the peer check).</summary>
internal sealed class FixedResolver(IPAddress address, GuestIdentity identity) : IGuestPeerResolver
{
    public GuestIdentity Resolve(GuestPeer peer, CancellationToken cancellationToken) =>
        peer.Address is { } a && a.Equals(address)
            ? identity
            : throw new GuestApiRefusedException(GuestRefusalReason.UnknownPeer, $"{peer} is not the address of any running domain");
}

/// <summary>A guest over real TCP: sends bytes, reads JSON lines until the server closes.</summary>
internal sealed class GuestClient : IDisposable
{
    private readonly TcpClient client = new();
    private readonly NetworkStream stream;
    private readonly StreamReader reader;

    public GuestClient(IPEndPoint server, IPAddress? from = null)
    {
        if (from is not null)
        {
            client.Client.Bind(new IPEndPoint(from, 0));
        }

        client.Connect(server);
        stream = client.GetStream();
        reader = new StreamReader(stream, Encoding.UTF8);
    }

    public void Send(string text) => Send(Encoding.UTF8.GetBytes(text));

    public void Send(byte[] bytes)
    {
        try
        {
            stream.Write(bytes);
        }
        catch (IOException)
        {
            // The server may close before all of an oversized request is sent: its answer is what the test reads.
        }
    }

    public JsonElement? ReadLine(int timeoutMs = 10_000)
    {
        var line = reader.ReadLineAsync();
        if (!line.Wait(timeoutMs))
        {
            throw new TimeoutException($"no line from the guest endpoint within {timeoutMs} ms");
        }

        return line.Result is { } text ? JsonDocument.Parse(text).RootElement.Clone() : null;
    }

    /// <summary>Every line until the server closes the connection.</summary>
    public List<JsonElement> ReadAll(int timeoutMs = 20_000)
    {
        var lines = new List<JsonElement>();
        var deadline = Environment.TickCount64 + timeoutMs;
        while (ReadLine((int)Math.Max(1, deadline - Environment.TickCount64)) is { } line)
        {
            lines.Add(line);
        }

        return lines;
    }

    public void Dispose() => client.Dispose();
}

/// <summary>The runner as a host with real guests runs it: libvirt discovery on the test libvirtd, the guest endpoint on one address.</summary>
internal static class GuestEndpointRun
{
    /// <summary>Starts the runner (textfile in <paramref name="dir"/>) and runs one cycle: the endpoint listens and knows the domains' threads.</summary>
    public static async Task<(ProbeRun Run, ListLog Log, string Prom)> StartAsync(IPAddress address, int port, string dir)
    {
        var prom = Path.Combine(dir, "vmprobe.prom");
        var config = ConfigLoader.Parse(
            $"endpoint: {prom}\nurl: {LibvirtdHost.Uri}\ndiscovery: libvirt\nkvmstats: off\nkvmexits: off\nguestapi: {address}:{port}\n", "g.yaml").Config;
        var log = new ListLog();
        var run = ProbeRun.Start(config, log);
        try
        {
            await run.Loop.RunOnceAsync(CancellationToken.None).ConfigureAwait(false);
            return (run, log, prom);
        }
        catch
        {
            run.Dispose();
            throw;
        }
    }

    /// <summary>A TCP port free on <paramref name="address"/> (any address: free on all of them) right now.</summary>
    public static int FreePort(IPAddress address)
    {
        using var probe = new TcpListener(address, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>The endpoint's log lines, for a test's output.</summary>
    public static string GuestApiLines(ListLog log) =>
        string.Join('\n', log.Lines.Where(l => l.Message.StartsWith("guestapi", StringComparison.Ordinal)).Select(l => l.Message));
}
