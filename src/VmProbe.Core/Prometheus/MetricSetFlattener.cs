namespace VmProbe.Prometheus;

/// <summary>
/// The one path from a metric set to the flat objects the cmdlets emit, one object per series: the perf source's
/// count families become <see cref="VmPerfSample"/>s carrying their scaling ratio, every other family becomes
/// <see cref="VmStatSample"/>s that keep the exact family name, type, help and labels. <see cref="SampleExposition"/> is
/// the way back: <c>SampleExposition.ToMetricSet(Flatten(set, t))</c> renders exactly as <c>set</c> does. The work is
/// done by the model's <see cref="MetricSetSamples"/>, which the sources' readers call directly.
/// </summary>
public static class MetricSetFlattener
{
    /// <summary>Every series of <paramref name="metrics"/> (or those <paramref name="include"/> accepts), in family and series order.</summary>
    public static List<object> Flatten(
        MetricSet metrics, DateTimeOffset timestamp, Func<MetricFamily, MetricSample, bool>? include = null) =>
        MetricSetSamples.Flatten(metrics, timestamp, include);

    /// <summary>The <see cref="VmStatSample"/>s of <see cref="Flatten"/>: every family but the perf counts.</summary>
    public static List<VmStatSample> ToStatSamples(
        MetricSet metrics, DateTimeOffset timestamp, Func<MetricFamily, MetricSample, bool>? include = null) =>
        MetricSetSamples.ToStatSamples(metrics, timestamp, include);

    /// <summary>The <see cref="VmPerfSample"/>s of <see cref="Flatten"/>; per-vCPU readings only with <paramref name="includeVcpu"/>.</summary>
    public static List<VmPerfSample> ToPerfSamples(MetricSet metrics, DateTimeOffset timestamp, bool includeVcpu = true) =>
        MetricSetSamples.ToPerfSamples(metrics, timestamp, includeVcpu);

    /// <summary>The uuid label value of a series, or null when its family has none (aggregates such as <c>domains{state}</c>).</summary>
    public static string? UuidOf(MetricFamily family, MetricSample series) => MetricSetSamples.UuidOf(family, series);

    /// <summary>The scope a family name's prefix gives (<see cref="SampleExposition"/> adds the same prefixes back), and the rest.</summary>
    internal static (VmSampleScope Scope, string Metric) Split(string familyName) => MetricSetSamples.Split(familyName);

    internal static string PrefixOf(VmSampleScope scope) => MetricSetSamples.PrefixOf(scope);
}
