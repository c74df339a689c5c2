namespace VmProbe;

/// <summary>
/// Scheduler statistics of a domain's threads (from /proc/PID/task/TID/schedstat), summed per domain or per vCPU thread.
/// <see cref="Metric"/> is one of the constants below; seconds are cumulative since the thread started.
/// </summary>
public sealed class VmSchedSample
{
    /// <summary>Time spent running on a CPU.</summary>
    public const string RunSecondsTotal = "run_seconds_total";

    /// <summary>Time spent runnable but waiting for a CPU (steal time as the guest would see it).</summary>
    public const string WaitSecondsTotal = "wait_seconds_total";

    /// <summary>Number of timeslices run on a CPU.</summary>
    public const string TimeslicesTotal = "timeslices_total";

    public VmSampleScope Scope { get; init; }

    public string? Domain { get; init; }

    public Guid? Uuid { get; init; }

    public int? Vcpu { get; init; }

    public required string Metric { get; init; }

    public double Value { get; init; }

    public DateTimeOffset Timestamp { get; init; }
}
