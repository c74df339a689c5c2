namespace VmProbe;

/// <summary>
/// The time the loop schedules on: a monotonic millisecond counter (immune to wall-clock steps), the wall clock for
/// timestamps, and a cancellable wait. A seam so the schedule can be tested without sleeping.
/// </summary>
public interface IProbeClock
{
    /// <summary>Milliseconds on a monotonic clock with an arbitrary origin.</summary>
    long MonotonicMilliseconds { get; }

    DateTimeOffset UtcNow { get; }

    /// <summary>Waits until <see cref="MonotonicMilliseconds"/> reaches <paramref name="monotonicMilliseconds"/>; false when cancelled first.</summary>
    Task<bool> DelayUntilAsync(long monotonicMilliseconds, CancellationToken cancellationToken);
}
