namespace VmProbe;

/// <summary>
/// One line of <c>Measure-VmKvmExit</c>, as <c>perf kvm stat report</c> prints one: a domain's exits of one reason over
/// the measured <see cref="Interval"/>, their rate and share of the domain's exits, and the handling time estimated from
/// the log2 histogram (microseconds; null when the tracer measures no latency, as the perf-filter fallback).
/// </summary>
public sealed record VmKvmExitStat
{
    public required string Domain { get; init; }

    public Guid Uuid { get; init; }

    /// <summary>The exit reason as the kernel prints it (EPT_VIOLATION, npf; unknown numbers as 0x..).</summary>
    public required string Reason { get; init; }

    public ulong Count { get; init; }

    /// <summary>Exits per second over <see cref="Interval"/>.</summary>
    public double Rate { get; init; }

    /// <summary>Percent of the domain's exits in the interval.</summary>
    public double Share { get; init; }

    public double? MinUs { get; init; }

    public double? MeanUs { get; init; }

    public double? MaxUs { get; init; }

    public double? P99Us { get; init; }

    public TimeSpan Interval { get; init; }

    /// <summary>bpf-latency, bpf-counts or perf-filter.</summary>
    public required string Mode { get; init; }

    public DateTimeOffset Timestamp { get; init; }
}
