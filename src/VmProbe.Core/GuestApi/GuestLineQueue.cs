using System.Threading.Channels;

namespace VmProbe.GuestApi;

/// <summary>
/// The lines owed to one reader, written by their own task: the session never waits on the reader. The queue is
/// bounded; a reader that lets it fill up, or whose write blocks past the write timeout, is dropped (<see cref="Faulted"/>).
/// </summary>
internal sealed class GuestLineQueue : IAsyncDisposable
{
    private readonly Channel<byte[]> lines;
    private readonly Stream stream;
    private readonly GuestApiLimits limits;
    private readonly CancellationTokenSource faulted = new();
    private readonly Task writer;

    public GuestLineQueue(Stream stream, GuestApiLimits limits)
    {
        this.stream = stream;
        this.limits = limits;
        lines = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(limits.MaxQueuedLines) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        writer = Task.Run(WriteAllAsync);
    }

    /// <summary>Cancelled once the reader is dropped (queue full, write failed or too slow).</summary>
    public CancellationToken Faulted => faulted.Token;

    /// <summary>Queues a line; false (and the reader dropped) when the queue is full.</summary>
    public bool TryEnqueue(byte[] line)
    {
        if (faulted.IsCancellationRequested)
        {
            return false;
        }

        if (lines.Writer.TryWrite(line))
        {
            return true;
        }

        Fault();
        return false;
    }

    /// <summary>Queues a line or throws the slow-reader refusal.</summary>
    public void Enqueue(byte[] line)
    {
        if (!TryEnqueue(line))
        {
            throw new GuestApiRefusedException(GuestRefusalReason.SlowReader,
                $"the reader fell {limits.MaxQueuedLines} lines behind or a write took over {limits.WriteTimeoutMs} ms; the session is dropped");
        }
    }

    /// <summary>Lets the queued lines go out (within one write timeout overall), then returns; the caller closes the stream.</summary>
    public async ValueTask DisposeAsync()
    {
        lines.Writer.TryComplete();
        try
        {
            await writer.WaitAsync(TimeSpan.FromMilliseconds(limits.WriteTimeoutMs)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Fault();
        }

        faulted.Dispose();
    }

    private async Task WriteAllAsync()
    {
        try
        {
            await foreach (var line in lines.Reader.ReadAllAsync(faulted.Token).ConfigureAwait(false))
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(faulted.Token);
                timeout.CancelAfter(limits.WriteTimeoutMs);
                await stream.WriteAsync(line, timeout.Token).ConfigureAwait(false);
            }

            await stream.FlushAsync(faulted.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            Fault();
        }
    }

    private void Fault()
    {
        try
        {
            faulted.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
