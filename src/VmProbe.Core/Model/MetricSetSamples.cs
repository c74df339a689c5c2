using System.Collections.Specialized;
using System.Globalization;

namespace VmProbe;

/// <summary>
/// The implementation of <c>Prometheus.MetricSetFlattener</c>, below the sources so their readers flatten with it too.
/// The one path from a metric set to the flat objects the cmdlets emit, one object per series: the perf source's
/// count families (<see cref="PerfSampleFamilies"/>) become <see cref="VmPerfSample"/>s carrying their scaling ratio, every
/// other family becomes <see cref="VmStatSample"/>s that keep the exact family name, type, help and labels.
/// <c>SampleExposition</c> is the way back: <c>SampleExposition.ToMetricSet(Flatten(set, t))</c> renders exactly
/// as <c>set</c> does. The flat columns (Scope, Domain, Uuid, Vcpu, Cpu, Event, Metric, Device) come from the family
/// name's scope prefix and the domain/uuid/vcpu/cpu/event labels.
/// </summary>
internal static class MetricSetSamples
{
    private const string DomainLabel = "domain";
    private const string UuidLabel = "uuid";
    private const string VcpuLabel = "vcpu";
    private const string CpuLabel = "cpu";
    private const string EventLabel = "event";

    /// <summary>Every series of <paramref name="metrics"/> (or those <paramref name="include"/> accepts), in family and series order.</summary>
    public static List<object> Flatten(
        MetricSet metrics, DateTimeOffset timestamp, Func<MetricFamily, MetricSample, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var samples = new List<object>();
        foreach (var family in metrics.Families)
        {
            if (PerfSampleFamily(metrics, family) is { } perf)
            {
                AddPerf(samples, family, perf.Ratios, perf.Scope, timestamp, include);
            }
            else if (!IsPairedRatio(metrics, family))
            {
                AddStat(samples, family, timestamp, include);
            }
        }

        return samples;
    }

    /// <summary>The <see cref="VmStatSample"/>s of <see cref="Flatten"/>: every family but the perf counts.</summary>
    public static List<VmStatSample> ToStatSamples(
        MetricSet metrics, DateTimeOffset timestamp, Func<MetricFamily, MetricSample, bool>? include = null) =>
        Flatten(metrics, timestamp, include).OfType<VmStatSample>().ToList();

    /// <summary>The <see cref="VmPerfSample"/>s of <see cref="Flatten"/>; per-vCPU readings only with <paramref name="includeVcpu"/>.</summary>
    public static List<VmPerfSample> ToPerfSamples(MetricSet metrics, DateTimeOffset timestamp, bool includeVcpu = true) =>
        Flatten(metrics, timestamp).OfType<VmPerfSample>().Where(s => includeVcpu || s.Scope != VmSampleScope.Vcpu).ToList();

    /// <summary>The uuid label value of a series, or null when its family has none (aggregates such as <c>domains{state}</c>).</summary>
    public static string? UuidOf(MetricFamily family, MetricSample series)
    {
        var index = IndexOf(family.LabelNames, UuidLabel);
        return index >= 0 ? series.LabelValues[index] : null;
    }

    private static (MetricFamily? Ratios, VmSampleScope Scope)? PerfSampleFamily(MetricSet metrics, MetricFamily family)
    {
        foreach (var (counts, ratios, scope) in PerfSampleFamilies.SampleFamilies)
        {
            if (Is(family, counts))
            {
                MetricFamily? ratioFamily = null;
                if (ratios is not null && metrics.TryGet(ratios.Name, out var found) && Is(found, ratios))
                {
                    ratioFamily = found;
                }

                return (ratioFamily, scope);
            }
        }

        return null;
    }

    // A ratio family is carried by the VmPerfSamples of its counts (ScalingRatio) when the counts are in the set.
    private static bool IsPairedRatio(MetricSet metrics, MetricFamily family)
    {
        foreach (var (counts, ratios, _) in PerfSampleFamilies.SampleFamilies)
        {
            if (ratios is not null && Is(family, ratios) && metrics.TryGet(counts.Name, out var found) && Is(found, counts))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Is(MetricFamily family, MetricDesc desc) =>
        family.Name == desc.Name && family.Type == desc.Type && family.LabelNames.SequenceEqual(desc.LabelNames);

    private static void AddPerf(
        List<object> samples, MetricFamily counts, MetricFamily? ratios, VmSampleScope scope, DateTimeOffset timestamp,
        Func<MetricFamily, MetricSample, bool>? include)
    {
        var names = counts.LabelNames;
        var domainIndex = IndexOf(names, DomainLabel);
        var uuidIndex = IndexOf(names, UuidLabel);
        var vcpuIndex = IndexOf(names, VcpuLabel);
        var cpuIndex = IndexOf(names, CpuLabel);
        var eventIndex = IndexOf(names, EventLabel);
        for (var s = 0; s < counts.Samples.Count; s++)
        {
            var series = counts.Samples[s];
            if (include is not null && !include(counts, series))
            {
                continue;
            }

            samples.Add(new VmPerfSample
            {
                Scope = scope,
                Domain = domainIndex >= 0 ? series.LabelValues[domainIndex] : null,
                Uuid = ParseUuid(series, uuidIndex),
                Vcpu = ParseIndex(series, vcpuIndex),
                Cpu = ParseIndex(series, cpuIndex),
                Event = eventIndex >= 0 ? series.LabelValues[eventIndex] : string.Empty,
                Value = series.Value,
                ScalingRatio = ratios is null ? 1.0 : RatioOf(ratios, s, series.LabelValues),
                Timestamp = timestamp,
            });
        }
    }

    // The source adds a ratio for every count, in the same order and with the same labels; look it up when not.
    private static double RatioOf(MetricFamily ratios, int index, string[] labelValues)
    {
        if (index < ratios.Samples.Count && ratios.Samples[index].LabelValues.AsSpan().SequenceEqual(labelValues))
        {
            return ratios.Samples[index].Value;
        }

        foreach (var ratio in ratios.Samples)
        {
            if (ratio.LabelValues.AsSpan().SequenceEqual(labelValues))
            {
                return ratio.Value;
            }
        }

        return 1.0;
    }

    private static void AddStat(
        List<object> samples, MetricFamily family, DateTimeOffset timestamp, Func<MetricFamily, MetricSample, bool>? include)
    {
        var (scope, metric) = Split(family.Name);
        var domainIndex = IndexOf(family.LabelNames, DomainLabel);
        var uuidIndex = IndexOf(family.LabelNames, UuidLabel);
        var vcpuIndex = IndexOf(family.LabelNames, VcpuLabel);
        foreach (var series in family.Samples)
        {
            if (include is not null && !include(family, series))
            {
                continue;
            }

            var labels = new OrderedDictionary(family.LabelNames.Count, StringComparer.Ordinal);
            string? device = null;
            for (var i = 0; i < family.LabelNames.Count; i++)
            {
                labels.Add(family.LabelNames[i], series.LabelValues[i]);
                if (i != domainIndex && i != uuidIndex && i != vcpuIndex)
                {
                    device = device is null ? series.LabelValues[i] : device + "," + series.LabelValues[i];
                }
            }

            samples.Add(new VmStatSample
            {
                Scope = vcpuIndex >= 0 ? VmSampleScope.Vcpu : scope,
                Domain = domainIndex >= 0 ? series.LabelValues[domainIndex] : null,
                Uuid = ParseUuid(series, uuidIndex),
                Vcpu = ParseIndex(series, vcpuIndex),
                Metric = metric,
                Device = device,
                Value = series.Value,
                Histogram = series.Histogram,
                Timestamp = timestamp,
                Family = family.Name,
                Type = family.Type,
                Help = family.Help,
                Labels = labels,
            });
        }
    }

    private static Guid? ParseUuid(MetricSample series, int index) =>
        index >= 0 && Guid.TryParse(series.LabelValues[index], out var uuid) ? uuid : null;

    private static int? ParseIndex(MetricSample series, int index) =>
        index >= 0 && int.TryParse(series.LabelValues[index], NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>The scope a family name's prefix gives (<c>SampleExposition</c> adds the same prefixes back), and the rest.</summary>
    internal static (VmSampleScope Scope, string Metric) Split(string familyName)
    {
        foreach (var scope in ScopePrefixes)
        {
            if (familyName.StartsWith(scope.Prefix, StringComparison.Ordinal))
            {
                return (scope.Scope, familyName[scope.Prefix.Length..]);
            }
        }

        // Aggregates without a scope prefix (domains{state}) describe the host's set of domains.
        return (VmSampleScope.Host, familyName);
    }

    /// <summary>Family name prefix of each scope, longest first.</summary>
    internal static readonly (VmSampleScope Scope, string Prefix)[] ScopePrefixes =
    {
        (VmSampleScope.Vcpu, "domain_vcpu_"),
        (VmSampleScope.Domain, "domain_"),
        (VmSampleScope.Host, "host_"),
    };

    internal static string PrefixOf(VmSampleScope scope) => Array.Find(ScopePrefixes, p => p.Scope == scope).Prefix;

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
