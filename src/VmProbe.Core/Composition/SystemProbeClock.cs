using System.Diagnostics;

namespace VmProbe.Composition;

/// <summary>The real clock: <see cref="Stopwatch"/> ticks for the schedule, <see cref="DateTimeOffset.UtcNow"/> for timestamps.</summary>
internal sealed class SystemProbeClock : IProbeClock
{
    /// <summary>Waits asynchronously: the caller's thread is free meanwhile (the module's commands pass log lines on while waiting).</summary>
    public static readonly SystemProbeClock Instance = new(blocking: false);

    /// <summary>
    /// Waits on the calling thread and returns a completed task. A cycle then wakes one thread once, where a timer
    /// wakes the timer thread, which wakes a pool thread that spins before it sleeps again (bench/RESULTS.md).
    /// </summary>
    public static readonly SystemProbeClock Blocking = new(blocking: true);

    private static readonly Task<bool> Reached = Task.FromResult(true);
    private static readonly Task<bool> Cancelled = Task.FromResult(false);
    private readonly bool _blocking;

    private SystemProbeClock(bool blocking) => _blocking = blocking;

    public long MonotonicMilliseconds => (long)(Stopwatch.GetTimestamp() * (1000.0 / Stopwatch.Frequency));

    public DateTimeOffset UtcNow => DateTimeOffset.UtcNow;

    public Task<bool> DelayUntilAsync(long monotonicMilliseconds, CancellationToken cancellationToken) =>
        _blocking ? WaitHere(monotonicMilliseconds, cancellationToken) : WaitAsync(monotonicMilliseconds, cancellationToken);

    private Task<bool> WaitHere(long monotonicMilliseconds, CancellationToken cancellationToken)
    {
        long remaining;
        while ((remaining = monotonicMilliseconds - MonotonicMilliseconds) > 0)
        {
            if (cancellationToken.WaitHandle.WaitOne((int)Math.Min(remaining, int.MaxValue)))
            {
                return Cancelled;
            }
        }

        return cancellationToken.IsCancellationRequested ? Cancelled : Reached;
    }

    private async Task<bool> WaitAsync(long monotonicMilliseconds, CancellationToken cancellationToken)
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
