namespace VmProbe;

/// <summary>
/// One perf counter reading, flat so that Format-Table and Export-Csv show it as is.
/// Domain, Uuid and Vcpu are null where the scope does not have them (host readings have none).
/// </summary>
public sealed class VmPerfSample
{
    public VmSampleScope Scope { get; init; }

    /// <summary>Domain name; null for host readings.</summary>
    public string? Domain { get; init; }

    public Guid? Uuid { get; init; }

    /// <summary>vCPU index for <see cref="VmSampleScope.Vcpu"/> readings, otherwise null.</summary>
    public int? Vcpu { get; init; }

    /// <summary>Host CPU of a per-CPU host reading (Start-VmPerfSession -PerCpu), otherwise null.</summary>
    public int? Cpu { get; init; }

    /// <summary>The event's canonical (snake_case) name, as the <c>event</c> label shows it.</summary>
    public required string Event { get; init; }

    /// <summary>The counter value, scaled by time_enabled/time_running when the kernel multiplexed the group.</summary>
    public double Value { get; init; }

    /// <summary>time_running / time_enabled: 1 when the event counted all the time, less when multiplexed, 0 when it never ran.</summary>
    public double ScalingRatio { get; init; } = 1.0;

    public DateTimeOffset Timestamp { get; init; }

    /// <summary>
    /// Time since the previous reading of the same series when the command samples repeatedly (-MaxSamples, -Continuous);
    /// null for a single reading and for the first reading of a series. Set by <c>Prometheus.SampleRateTracker</c>.
    /// </summary>
    public TimeSpan? Interval { get; set; }

    /// <summary>
    /// Per-second increase of <see cref="Value"/> over <see cref="Interval"/>; null where <see cref="Interval"/> is null
    /// and after a counter reset (the value went down). Set by <c>Prometheus.SampleRateTracker</c>.
    /// </summary>
    public double? Rate { get; set; }
}
