using System.Diagnostics;
using VmProbe.Perf;

namespace VmProbe.GuestApi;

/// <summary>
/// One connection, whatever its transport: read one bounded request line, find out from the host who the peer is,
/// take a session slot, count, stream the lines, close. Every refusal is an error line, a count and (once per peer) a
/// log line; nothing the guest sends reaches anything but its own stream and its own domain's counters.
/// </summary>
internal sealed class GuestConnectionHandler
{
    private readonly GuestApiLimits limits;
    private readonly IGuestPeerResolver resolver;
    private readonly Func<IReadOnlyList<VmDomain>> domains;
    private readonly GuestSessionSlots slots;
    private readonly GuestApiStats stats;
    private readonly PerfFdBudget budget;
    private readonly IProbeLog log;

    public GuestConnectionHandler(GuestApiLimits limits, IGuestPeerResolver resolver, Func<IReadOnlyList<VmDomain>> domains, GuestApiStats stats, PerfFdBudget budget, IProbeLog log)
    {
        this.limits = limits;
        this.resolver = resolver;
        this.domains = domains;
        this.stats = stats;
        this.budget = budget;
        this.log = log;
        slots = new GuestSessionSlots(limits);
    }

    public GuestApiLimits Limits => limits;

    public async Task HandleAsync(Stream stream, GuestPeer peer, CancellationToken stop)
    {
        var output = new GuestLineQueue(stream, limits);
        try
        {
            var (line, more) = await GuestRequestReader.ReadLineAsync(stream, limits, stop).ConfigureAwait(false);
            var request = GuestRequest.Parse(line, limits);
            var identity = await resolver.ResolveAsync(peer, stop).ConfigureAwait(false);
            if (request.ClaimedDomain is { } claim && claim != identity.Name && claim != identity.Uuid.ToString("D"))
            {
                throw new GuestApiRefusedException(GuestRefusalReason.ClaimMismatch,
                    $"the request claims domain '{claim}', but {peer} is domain '{identity.Name}' to the host; a guest may ask only for its own counters");
            }

            var domain = domains().FirstOrDefault(d => identity.Uuid != Guid.Empty ? d.Uuid == identity.Uuid : d.Name == identity.Name)
                ?? throw new GuestApiRefusedException(GuestRefusalReason.DomainNotRunning, $"domain '{identity.Name}' is not among the domains the probe counts (yet); try again after the next cycle");
            using var slot = slots.Acquire(identity);
            using var counters = GuestCounters.Open(request, domain, budget);
            stats.SessionStarted();
            if (stats.FirstTime("accepted " + peer))
            {
                log.Write(LogLevel.Info, $"guestapi: {peer} is domain '{identity.Name}': counting {string.Join(", ", counters.Events.Select(e => e.Event.CanonicalName))} for it");
            }

            try
            {
                await RunSessionAsync(stream, more, request, identity, counters, output, stop).ConfigureAwait(false);
            }
            finally
            {
                stats.SessionEnded();
            }
        }
        catch (GuestApiRefusedException refused)
        {
            Refuse(peer, refused, output);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception error) when (error is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            // The guest went away mid-session: nothing to answer.
        }
        finally
        {
            await output.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Counts a refusal, logs it once per peer, and answers it with an error line (unless the reader was the problem).</summary>
    internal void Refuse(GuestPeer peer, GuestApiRefusedException refused, GuestLineQueue? output)
    {
        stats.CountRefusal(refused.Reason);
        // Keyed by peer and reason: an accepted session (or another refusal) must not hide this one from the log.
        if (stats.FirstTime("refused " + refused.ErrorId + " " + peer))
        {
            log.Write(LogLevel.Warning, $"guestapi: refused {peer}: {refused.Message} [{refused.ErrorId}] (further refusals of this peer for this reason are counted, not logged)");
        }

        if (refused.Reason != GuestRefusalReason.SlowReader)
        {
            output?.TryEnqueue(GuestReplyLines.Error(refused.Reason, refused.Message));
        }
    }

    private async Task RunSessionAsync(Stream stream, bool endRequested, GuestRequest request, GuestIdentity identity, GuestCounters counters, GuestLineQueue output, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        output.Enqueue(GuestReplyLines.Start(identity, request, counters.Events));
        var baseline = counters.Read();
        var previous = baseline;
        var limit = request.DurationMs ?? limits.MaxDurationMs;
        var ended = request.DurationMs is null ? "ceiling" : "duration";
        using var session = CancellationTokenSource.CreateLinkedTokenSource(stop, output.Faulted);
        var guestEnded = endRequested ? Task.CompletedTask : GuestRequestReader.WaitForEndAsync(stream, limits.MaxRequestBytes, session.Token);
        long seq = 0;
        while (true)
        {
            var elapsed = clock.ElapsedMilliseconds;
            if (elapsed >= limit)
            {
                break;
            }

            var next = request.IntervalMs > 0 ? Math.Min((seq + 1) * request.IntervalMs, limit) : limit;
            var tick = Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, next - elapsed)), session.Token);
            await Task.WhenAny(tick, guestEnded).ConfigureAwait(false);
            if (session.IsCancellationRequested)
            {
                if (output.Faulted.IsCancellationRequested)
                {
                    throw new GuestApiRefusedException(GuestRefusalReason.SlowReader, "the reader stopped reading; the session is dropped");
                }

                ended = "stopped";
                break;
            }

            if (guestEnded.IsCompleted)
            {
                ended = "closed";
                break;
            }

            if (request.IntervalMs > 0 && next < limit)
            {
                var now = counters.Read();
                output.Enqueue(GuestReplyLines.Interval(++seq, clock.ElapsedMilliseconds, GuestReplyLines.Delta(now, previous)));
                previous = now;
            }
        }

        output.Enqueue(GuestReplyLines.Summary(clock.ElapsedMilliseconds, ended, GuestReplyLines.Delta(counters.Read(), baseline)));
    }
}
