using System.Collections.Concurrent;
using System.Net.Sockets;
using VmProbe.Perf;

namespace VmProbe.GuestApi;

/// <summary>
/// The guest endpoint: one accept loop per address (TCP, AF_VSOCK) on the thread pool, one task per connection, all
/// over the same <see cref="GuestConnectionHandler"/>. Nothing here runs on, or waits for, the collection loop: it
/// reads the latest domain list through <c>domains</c> and its counters through the session's own perf fds.
/// </summary>
public sealed class GuestApiServer : IDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly List<IDisposable> listeners = new();
    private readonly List<Task> loops = new();
    private readonly ConcurrentDictionary<Task, byte> connections = new();
    private readonly GuestConnectionHandler handler;
    private readonly IProbeLog log;
    private readonly ConcurrentDictionary<string, int> perSource = new(StringComparer.Ordinal);
    private int open;

    private GuestApiServer(GuestConnectionHandler handler, GuestApiStats stats, IProbeLog log)
    {
        this.handler = handler;
        this.log = log;
        Stats = stats;
    }

    public GuestApiStats Stats { get; }

    /// <summary>The TCP endpoints actually bound (port 0 in the address gives an ephemeral port: tests).</summary>
    public IReadOnlyList<System.Net.IPEndPoint> TcpEndpoints { get; private set; } = Array.Empty<System.Net.IPEndPoint>();

    /// <summary>Listens on every address; throws <see cref="VmProbeException"/> (naming the address) when one cannot be bound.</summary>
    public static GuestApiServer Start(
        IReadOnlyList<GuestApiAddress> addresses, IGuestPeerResolver resolver, Func<IReadOnlyList<VmDomain>> domains, IProbeLog log,
        GuestApiLimits? limits = null, PerfFdBudget? budget = null)
    {
        var stats = new GuestApiStats((limits ?? GuestApiLimits.Default).MaxLoggedPeers);
        var handler = new GuestConnectionHandler(limits ?? GuestApiLimits.Default, resolver, domains, stats, budget ?? new PerfFdBudget(), log);
        var server = new GuestApiServer(handler, stats, log);
        try
        {
            var bound = new List<System.Net.IPEndPoint>();
            foreach (var address in addresses)
            {
                if (address.Transport == GuestTransport.Vsock)
                {
                    var vsock = VsockListener.Listen(address.VsockPort);
                    server.listeners.Add(vsock);
                    server.loops.Add(Task.Run(() => server.AcceptVsockAsync(vsock)));
                    continue;
                }

                var socket = new Socket(address.Tcp!.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                server.listeners.Add(socket);
                try
                {
                    socket.Bind(address.Tcp);
                    socket.Listen(64);
                }
                catch (SocketException ex)
                {
                    throw new VmProbeException($"guestapi: cannot listen on {address}: {ex.Message}", "guestapi_listen," + ex.SocketErrorCode, ProbeErrorKind.ResourceUnavailable, ex);
                }

                bound.Add((System.Net.IPEndPoint)socket.LocalEndPoint!);
                server.loops.Add(Task.Run(() => server.AcceptTcpAsync(socket)));
            }

            server.TcpEndpoints = bound;
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    private async Task AcceptTcpAsync(Socket listener)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (stop.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            client.NoDelay = true;
            var peer = GuestPeer.Tcp(((System.Net.IPEndPoint)client.RemoteEndPoint!).Address);
            Track(peer, new NetworkStream(client, ownsSocket: true));
        }
    }

    private async Task AcceptVsockAsync(VsockListener listener)
    {
        while (!stop.IsCancellationRequested)
        {
            var accepted = await Task.Run(() => listener.TryAccept(stop.Token)).ConfigureAwait(false);
            if (accepted is { } connection)
            {
                Track(GuestPeer.Vsock(connection.Cid), connection.Stream);
            }
        }
    }

    /// <summary>
    /// Runs a connection, unless its source address already holds its share or too many are open in all: then one
    /// error line and close, counted like a refusal. The per-address cap comes first so one address cannot fill the global one.
    /// </summary>
    private void Track(GuestPeer peer, Stream stream)
    {
        var source = peer.ToString();
        var perPeer = perSource.AddOrUpdate(source, 1, (_, n) => n + 1);
        if (perPeer > handler.Limits.MaxConnectionsPerPeer)
        {
            ReleaseSource(source);
            RefuseAndClose(peer, stream, new GuestApiRefusedException(GuestRefusalReason.TooManyConnections,
                $"{peer} already has {handler.Limits.MaxConnectionsPerPeer} guest connections open, its limit; close one first"));
            return;
        }

        var limit = handler.Limits.MaxSessions + 16;
        if (Interlocked.Increment(ref open) > limit)
        {
            Interlocked.Decrement(ref open);
            ReleaseSource(source);
            RefuseAndClose(peer, stream, new GuestApiRefusedException(GuestRefusalReason.TooManySessions, $"the host already has {limit} guest connections open; try again later"));
            return;
        }

        var task = Task.Run(async () =>
        {
            try
            {
                await handler.HandleAsync(stream, peer, stop.Token).ConfigureAwait(false);
            }
            catch (Exception error)
            {
                log.Write(LogLevel.Warning, $"guestapi: connection from {peer} failed: {VmProbeException.Describe(error)}");
            }
            finally
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                Interlocked.Decrement(ref open);
                ReleaseSource(source);
            }
        });
        connections.TryAdd(task, 0);
        _ = task.ContinueWith(t => connections.TryRemove(t, out _), TaskScheduler.Default);
    }

    private void RefuseAndClose(GuestPeer peer, Stream stream, GuestApiRefusedException refused)
    {
        var queue = new GuestLineQueue(stream, handler.Limits);
        handler.Refuse(peer, refused, queue);
        _ = CloseAfterAsync(queue, stream);
    }

    /// <summary>One connection of <paramref name="source"/> closed; the entry goes when its last one does (the table stays small).</summary>
    private void ReleaseSource(string source)
    {
        // Removed only while still 0: a connection accepted meanwhile keeps its count.
        if (perSource.AddOrUpdate(source, 0, (_, n) => n - 1) <= 0)
        {
            perSource.TryRemove(KeyValuePair.Create(source, 0));
        }
    }

    private static async Task CloseAfterAsync(GuestLineQueue queue, Stream stream)
    {
        await queue.DisposeAsync().ConfigureAwait(false);
        await stream.DisposeAsync().ConfigureAwait(false);
    }

    public void Dispose()
    {
        if (stop.IsCancellationRequested)
        {
            return;
        }

        stop.Cancel();
        foreach (var listener in listeners)
        {
            listener.Dispose();
        }

        // Sessions end with a summary ("stopped"); give them a moment, never the collection loop's time.
        try
        {
            Task.WhenAll(loops.Concat(connections.Keys)).Wait(TimeSpan.FromSeconds(3));
        }
        catch (AggregateException)
        {
            // Each connection logged its own failure.
        }
    }
}
