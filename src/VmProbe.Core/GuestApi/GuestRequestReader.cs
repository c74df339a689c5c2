namespace VmProbe.GuestApi;

/// <summary>Reads a connection's request line with a byte and time bound, and notices when the guest ends its session.</summary>
internal static class GuestRequestReader
{
    /// <summary>
    /// The first line (without CR/LF and without telnet negotiation, which curl's telnet:// sends first), and whether
    /// more bytes followed it (the guest's "end" already arrived). Refuses a line over the size bound, a connection that
    /// sends none within the request timeout, and one that closes first.
    /// </summary>
    public static async Task<(byte[] Line, bool More)> ReadLineAsync(Stream stream, GuestApiLimits limits, CancellationToken stop)
    {
        var buffer = new byte[limits.MaxRequestBytes + 1];
        var filled = 0;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(limits.RequestTimeoutMs);
        while (true)
        {
            int read;
            try
            {
                read = await stream.ReadAsync(buffer.AsMemory(filled), timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                throw new GuestApiRefusedException(GuestRefusalReason.Timeout, $"no complete request line within {limits.RequestTimeoutMs} ms");
            }

            if (read == 0)
            {
                throw new GuestApiRefusedException(GuestRefusalReason.Malformed, filled == 0 ? "the connection closed before sending a request" : "the request line has no newline at its end");
            }

            var start = filled;
            filled += read;
            var newline = Array.IndexOf(buffer, (byte)'\n', start, filled - start);
            if (newline >= 0)
            {
                var line = SkipTelnetNegotiation(buffer.AsSpan(0, newline)).TrimEnd((byte)'\r').ToArray();
                return (line, newline + 1 < filled);
            }

            if (filled == buffer.Length)
            {
                throw new GuestApiRefusedException(GuestRefusalReason.Oversized, $"the request line is longer than {limits.MaxRequestBytes} bytes; refused unread");
            }
        }
    }

    /// <summary>
    /// Completes when the guest ends its session: a line (any text and a newline), the close of its side, or more than
    /// a request's worth of bytes without a newline. Telnet negotiation from curl's telnet:// is no end. Cancelled with
    /// <paramref name="token"/>.
    /// </summary>
    public static async Task WaitForEndAsync(Stream stream, int maxBytes, CancellationToken token)
    {
        var scratch = new byte[256];
        var seen = 0;
        try
        {
            while (seen <= maxBytes)
            {
                var read = await stream.ReadAsync(scratch, token).ConfigureAwait(false);
                if (read == 0 || Array.IndexOf(scratch, (byte)'\n', 0, read) >= 0)
                {
                    return;
                }

                seen += read;
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            // A reset is an end too.
        }
    }

    /// <summary>Drops leading IAC WILL/WONT/DO/DONT triples (0xFF 0xFB..0xFE option).</summary>
    private static ReadOnlySpan<byte> SkipTelnetNegotiation(ReadOnlySpan<byte> line)
    {
        while (line.Length >= 3 && line[0] == 0xFF && line[1] is >= 0xFB and <= 0xFE)
        {
            line = line[3..];
        }

        return line;
    }
}
