namespace VmProbe.Composition;

/// <summary>
/// The loop's fixed grid of ticks: tick k is at <c>start + k * delay</c> on the monotonic clock, so cycles never drift.
/// After a cycle that ran past one or more ticks, the next cycle starts at the first tick still in the future.
/// </summary>
internal static class ProbeSchedule
{
    /// <summary>
    /// The next tick after tick <paramref name="currentTick"/>, given that it is now <paramref name="nowMs"/>:
    /// the smallest k &gt; currentTick with <c>start + k * delay &gt; now</c>, and how many ticks in between were missed.
    /// </summary>
    public static (long Tick, long DueMs, long Skipped) Next(long startMs, long delayMs, long currentTick, long nowMs)
    {
        if (delayMs <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(delayMs), delayMs, "The delay must be positive.");
        }

        var tick = currentTick + 1;
        var elapsed = nowMs - startMs;
        if (elapsed >= 0)
        {
            // First tick strictly after now.
            var firstFuture = (elapsed / delayMs) + 1;
            if (firstFuture > tick)
            {
                tick = firstFuture;
            }
        }

        return (tick, startMs + (tick * delayMs), tick - currentTick - 1);
    }
}
