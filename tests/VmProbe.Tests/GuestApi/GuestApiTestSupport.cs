using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using VmProbe.GuestApi;

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
