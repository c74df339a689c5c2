using System.Collections.Specialized;

namespace VmProbe;

/// <summary>
/// One statistic of the host (procfs) or of a domain (libvirt bulk stats), flat for Format-Table and Export-Csv.
/// <see cref="Metric"/> is a Prometheus-safe name without scope, for example <c>cpu_seconds_total</c> or
/// <c>block_read_bytes_total</c>; a name ending in <c>_total</c> is a counter, any other a gauge.
/// <see cref="Device"/> names the disk, interface, CPU mode or state the value belongs to, or is null.
/// Samples made from a metric source (Read-VmHostStat, Read-VmDomainStat) also carry the exact series:
/// <see cref="Family"/>, <see cref="Type"/>, <see cref="Help"/> and <see cref="Labels"/>, from which the text
/// exposition is rebuilt identical to the runner's.
/// </summary>
public sealed class VmStatSample
{
    public VmSampleScope Scope { get; init; }

    public string? Domain { get; init; }

    public Guid? Uuid { get; init; }

    public int? Vcpu { get; init; }

    public required string Metric { get; init; }

    public string? Device { get; init; }

    public double Value { get; init; }

    public DateTimeOffset Timestamp { get; init; }

    /// <summary>The metric family name without prefix (for example <c>host_cpu_seconds_total</c>), or null when built by hand.</summary>
    public string? Family { get; init; }

    /// <summary>The family's type; with <see cref="Family"/> null, derived from the <c>_total</c> suffix.</summary>
    public MetricType Type { get; init; }

    public string? Help { get; init; }

    /// <summary>The buckets of a histogram series (<see cref="Type"/> Histogram; <see cref="Value"/> is then its count), else null.</summary>
    public HistogramValue? Histogram { get; init; }

    /// <summary>Every label of the series (name to value) in the family's order, or null when built by hand.</summary>
    public OrderedDictionary? Labels { get; init; }

    /// <summary>
    /// Time since the previous reading of the same series when the command samples repeatedly (-MaxSamples, -Continuous);
    /// null for a single reading and for the first reading of a series. Set by <c>Prometheus.SampleRateTracker</c>.
    /// </summary>
    public TimeSpan? Interval { get; set; }

    /// <summary>
    /// Per-second increase of a counter's <see cref="Value"/> over <see cref="Interval"/>; null for gauges, where
    /// <see cref="Interval"/> is null, and after a counter reset (the value went down). Set by <c>Prometheus.SampleRateTracker</c>.
    /// </summary>
    public double? Rate { get; set; }
}
