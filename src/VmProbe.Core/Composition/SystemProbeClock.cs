using System.Diagnostics;

namespace VmProbe.Composition;

/// <summary>The real clock: <see cref="Stopwatch"/> ticks for the schedule, <see cref="DateTimeOffset.UtcNow"/> for timestamps.</summary>
internal sealed class SystemProbeClock : IProbeClock
{
    public static readonly SystemProbeClock Instance = new();

    public long MonotonicMilliseconds => (long)(Stopwatch.GetTimestamp() * (1000.0 / Stopwatch.Frequency));

    public DateTimeOffset UtcNow => DateTimeOffset.UtcNow;

    public async Task<bool> DelayUntilAsync(long monotonicMilliseconds, CancellationToken cancellationToken)
    {
        // Timers may fire a little early or late; loop until the monotonic clock has really reached the target.
        long remaining;
        while ((remaining = monotonicMilliseconds - MonotonicMilliseconds) > 0)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(remaining), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        return !cancellationToken.IsCancellationRequested;
    }
}
