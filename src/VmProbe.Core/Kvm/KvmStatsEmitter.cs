using System.Globalization;
using System.Text;

namespace VmProbe.Kvm;

/// <summary>
/// One statistic's raw values (one for a scalar, one per bucket for a histogram) and what they mean. A stats fd's
/// readings are windows on the one array its data block is read into (no copy per statistic).
/// </summary>
internal readonly record struct KvmStatReading(KvmStatDescriptor Descriptor, ArraySegment<ulong> Values);

/// <summary>What one stats fd (or debugfs directory, or libvirt group) gave: the vCPU index, or null for VM-wide statistics.</summary>
internal sealed record KvmStatsSnapshot(int? Vcpu, IReadOnlyList<KvmStatReading> Readings);

/// <summary>
/// Turns KVM statistics into families: cumulative statistics into counters (<c>_total</c>), instant and peak ones into
/// gauges, linear and logarithmic histograms into Prometheus histograms. Values are scaled to base units (base^exponent;
/// seconds, bytes) and a name's own unit suffix (<c>_ns</c>) is replaced by the base unit (<c>_seconds</c>).
/// Per domain, vCPU statistics are summed (peaks: the maximum; histograms: bucket by bucket); per vCPU, each vCPU is a series.
/// </summary>
/// <remarks>
/// Histogram buckets carry exact inclusive bounds: KVM counts integers, so the linear bucket [i*b, (i+1)*b) holds values
/// &lt;= (i+1)*b-1 and the log bucket [2^(n-1), 2^n) values &lt;= 2^n-1 (the first log bucket: 0); the last bucket is +Inf.
/// KVM keeps no sum of the observations, so no <c>_sum</c> is written.
/// </remarks>
internal static class KvmStatsEmitter
{
    private static readonly string[] DomainLabels = { "domain", "uuid" };
    private static readonly string[] VcpuLabels = { "domain", "uuid", "vcpu" };
    private static readonly string[] SecondsSuffixes = { "_nanoseconds", "_ns", "_us", "_ms", "_seconds", "_sec", "_s" };
    private static readonly string[] BytesSuffixes = { "_bytes", "_b" };

    private const int MaxCachedFamilies = 4096;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<
        (string Prefix, int Labels, string Name, KvmStatType Type, KvmStatUnit Unit, KvmStatBase Base, short Exponent),
        (string Name, MetricType Type, string Help)> Families = new();

    /// <summary>
    /// Adds one domain's snapshots; returns the number of statistics left out because their family clashed. Per domain,
    /// <paramref name="sums"/> (the domain's own, kept across cycles) sums snapshots that stay the same from cycle to cycle
    /// (a stats fd's) without matching names and allocating totals each cycle.
    /// </summary>
    public static int AddDomain(
        MetricSet metrics, bool perVcpu, string domain, string uuid, IReadOnlyList<KvmStatsSnapshot> snapshots, Func<string, bool>? allow,
        KvmStatsAggregation? sums = null)
    {
        var clashes = 0;
        if (perVcpu)
        {
            foreach (var snapshot in snapshots)
            {
                var vcpu = snapshot.Vcpu?.ToString(CultureInfo.InvariantCulture);
                var labels = vcpu is null ? new[] { domain, uuid } : new[] { domain, uuid, vcpu };
                foreach (var reading in snapshot.Readings)
                {
                    if (allow is not null && !allow(reading.Descriptor.Name))
                    {
                        continue;
                    }

                    clashes += vcpu is null
                        ? Add(metrics, KvmFamilies.DomainPrefix, DomainLabels, reading.Descriptor, reading.Values, labels)
                        : Add(metrics, KvmFamilies.VcpuPrefix, VcpuLabels, reading.Descriptor, reading.Values, labels);
                }
            }

            return clashes;
        }

        var domainLabels = new[] { domain, uuid };
        if (sums is not null)
        {
            foreach (var entry in sums.Sum(snapshots, allow))
            {
                clashes += Add(metrics, entry.Family, DomainLabels, entry.Descriptor, entry.Totals, entry.Bounds, domainLabels);
            }

            return clashes;
        }

        foreach (var (descriptor, values) in Aggregate(snapshots, allow))
        {
            clashes += Add(metrics, KvmFamilies.DomainPrefix, DomainLabels, descriptor, values, domainLabels);
        }

        return clashes;
    }

    /// <summary>Adds host-wide statistics (debugfs' top-level files) as <c>host_kvm_*</c>.</summary>
    public static int AddHost(MetricSet metrics, IReadOnlyList<KvmStatReading> readings, Func<string, bool>? allow)
    {
        var clashes = 0;
        foreach (var reading in readings)
        {
            if (allow is null || allow(reading.Descriptor.Name))
            {
                clashes += Add(metrics, KvmFamilies.HostPrefix, Array.Empty<string>(), reading.Descriptor, reading.Values, Array.Empty<string>());
            }
        }

        return clashes;
    }

    /// <summary>
    /// Every statistic of the domain once: VM-wide and per-vCPU values of one name combined (sum; peaks: max; histograms:
    /// bucket by bucket when their shapes agree, else the first shape wins and the others are left out).
    /// </summary>
    internal static List<(KvmStatDescriptor Descriptor, ulong[] Values)> Aggregate(IReadOnlyList<KvmStatsSnapshot> snapshots, Func<string, bool>? allow)
    {
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        var result = new List<(KvmStatDescriptor Descriptor, ulong[] Values)>();
        foreach (var snapshot in snapshots)
        {
            foreach (var (descriptor, values) in snapshot.Readings)
            {
                if (allow is not null && !allow(descriptor.Name))
                {
                    continue;
                }

                if (!byName.TryGetValue(descriptor.Name, out var index))
                {
                    byName.Add(descriptor.Name, result.Count);
                    result.Add((descriptor, values.ToArray()));
                    continue;
                }

                var (first, total) = result[index];
                if (!first.SameShapeAs(descriptor))
                {
                    continue;
                }

                for (var i = 0; i < total.Length; i++)
                {
                    total[i] = descriptor.Type == KvmStatType.Peak ? Math.Max(total[i], values[i]) : unchecked(total[i] + values[i]);
                }
            }
        }

        return result;
    }

    /// <summary>The family name of a statistic without scope prefix: <c>halt_poll_success_ns</c> (cumulative, seconds) is <c>halt_poll_success_seconds_total</c>.</summary>
    internal static string MetricName(KvmStatDescriptor descriptor)
    {
        var stem = Sanitize(descriptor.Name);
        var unit = descriptor.Unit switch
        {
            KvmStatUnit.Seconds => "seconds",
            KvmStatUnit.Bytes => "bytes",
            KvmStatUnit.Cycles => "cycles",
            _ => null,
        };
        var suffixes = descriptor.Unit switch
        {
            KvmStatUnit.Seconds => SecondsSuffixes,
            KvmStatUnit.Bytes => BytesSuffixes,
            _ => Array.Empty<string>(),
        };
        foreach (var suffix in suffixes)
        {
            if (stem.Length > suffix.Length && stem.EndsWith(suffix, StringComparison.Ordinal))
            {
                stem = stem[..^suffix.Length];
                break;
            }
        }

        if (unit is not null && !stem.EndsWith("_" + unit, StringComparison.Ordinal))
        {
            stem += "_" + unit;
        }

        if (descriptor.Type == KvmStatType.Cumulative)
        {
            if (stem.EndsWith("_total", StringComparison.Ordinal))
            {
                stem = stem[..^"_total".Length];
            }

            stem += "_total";
        }
        else if (stem.EndsWith("_total", StringComparison.Ordinal))
        {
            stem = stem[..^"_total".Length] + "_value"; // a gauge named *_total would be linted as a counter
        }

        return stem;
    }

    /// <summary>The histogram of a linear or log statistic: exact inclusive bounds in base units, the last bucket +Inf.</summary>
    internal static HistogramValue Histogram(KvmStatDescriptor descriptor, ReadOnlySpan<ulong> buckets)
    {
        var bounds = HistogramBounds(descriptor, buckets.Length);
        var counts = new double[buckets.Length];
        for (var i = 0; i < buckets.Length; i++)
        {
            counts[i] = buckets[i];
        }

        return HistogramValue.FromBucketCounts(bounds, counts);
    }

    /// <summary>The finite upper bounds of a histogram of <paramref name="buckets"/> buckets, in base units.</summary>
    internal static double[] HistogramBounds(KvmStatDescriptor descriptor, int buckets)
    {
        var bounds = new double[Math.Max(0, buckets - 1)];
        for (var i = 0; i < bounds.Length; i++)
        {
            double raw = descriptor.Type == KvmStatType.LinearHistogram
                ? ((i + 1) * (double)descriptor.BucketSize) - 1
                : i == 0 ? 0 : Math.Pow(2, i) - 1;
            bounds[i] = descriptor.ToUnit(raw);
        }

        return bounds;
    }

    private static int Add(
        MetricSet metrics, string prefix, string[] labelNames, KvmStatDescriptor descriptor, ReadOnlySpan<ulong> values, string[] labelValues) =>
        Add(metrics, FamilyOf(prefix, labelNames.Length, descriptor), labelNames, descriptor, values, bounds: null, labelValues);

    /// <param name="bounds">A histogram's bounds made once (null: made from the descriptor now).</param>
    private static int Add(
        MetricSet metrics, (string Name, MetricType Type, string Help) of, string[] labelNames, KvmStatDescriptor descriptor,
        ReadOnlySpan<ulong> values, double[]? bounds, string[] labelValues)
    {
        var (name, type, help) = of;
        MetricFamily family;
        try
        {
            family = metrics.Family(name, type, help, labelNames);
        }
        catch (InvalidOperationException)
        {
            return 1; // another source or kernel gave the same name another type: the first one wins
        }

        if (type == MetricType.Histogram)
        {
            family.AddHistogram(bounds is null ? Histogram(descriptor, values) : HistogramValue.FromCheckedBounds(bounds, values), labelValues);
        }
        else
        {
            family.Add(descriptor.ToUnit(values[0]), labelValues);
        }

        return 0;
    }

    /// <summary>
    /// The family name, type and help of a statistic in a scope, made once per (scope, name, type, unit, base, exponent):
    /// a cycle writes the same few hundred families for every domain, and building the names was most of its cost.
    /// Bounded: past <see cref="MaxCachedFamilies"/> (names no kernel has) they are built each time.
    /// </summary>
    internal static (string Name, MetricType Type, string Help) FamilyOf(string prefix, int labels, KvmStatDescriptor descriptor)
    {
        var key = (prefix, labels, descriptor.Name, descriptor.Type, descriptor.Unit, descriptor.Base, descriptor.Exponent);
        if (Families.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var type = descriptor.Type switch
        {
            KvmStatType.Cumulative => MetricType.Counter,
            KvmStatType.LinearHistogram or KvmStatType.LogHistogram => MetricType.Histogram,
            _ => MetricType.Gauge,
        };
        var scope = labels == 0 ? "for the host" : labels == 3 ? "per vCPU" : "per domain (vCPUs summed, peaks as maximum)";
        var kind = descriptor.Type switch
        {
            KvmStatType.Cumulative => "cumulative",
            KvmStatType.Instant => "instant",
            KvmStatType.Peak => "peak",
            KvmStatType.LinearHistogram => "linear histogram",
            _ => "log2 histogram",
        };
        var made = (prefix + MetricName(descriptor), type, $"KVM statistic {descriptor.Name} ({kind}) {scope}.");
        if (Families.Count < MaxCachedFamilies)
        {
            Families.TryAdd(key, made);
        }

        return made;
    }

    private static string Sanitize(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '_');
        }

        return builder.ToString();
    }
}
