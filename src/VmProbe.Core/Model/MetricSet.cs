namespace VmProbe;

public enum MetricType
{
    Counter,
    Gauge,

    /// <summary>TYPE untyped: only for legacy lines whose fixed name ends in <c>_total</c> without being a counter
    /// (promtool lints a gauge named <c>*_total</c>; untyped is exempt).</summary>
    Untyped,

    /// <summary>TYPE histogram: each series carries a <see cref="HistogramValue"/> and is written as
    /// <c>_bucket{le}</c> (cumulative, ending with <c>+Inf</c>), <c>_sum</c> (when known) and <c>_count</c>.</summary>
    Histogram,
}

/// <summary>One series of a family: label values in the family's label-name order, and the value; a histogram series
/// also carries its buckets (<see cref="Histogram"/>), and then <see cref="Value"/> is its count.</summary>
public readonly record struct MetricSample(string[] LabelValues, double Value, HistogramValue? Histogram = null);

/// <summary>
/// A metric family as the exposition format groups it: one name, one HELP, one TYPE, its samples together.
/// <see cref="Name"/> has no prefix (for example <c>host_cpu_seconds_total</c>); the writer prepends the configured prefix.
/// </summary>
public sealed class MetricFamily
{
    private readonly List<MetricSample> _samples = new();

    internal MetricFamily(string name, MetricType type, string help, string[] labelNames)
    {
        Name = name;
        Type = type;
        Help = help;
        LabelNames = labelNames;
    }

    public string Name { get; }

    public MetricType Type { get; }

    public string Help { get; }

    public IReadOnlyList<string> LabelNames { get; }

    public IReadOnlyList<MetricSample> Samples => _samples;

    /// <summary>
    /// When the source that added this cycle's samples began reading (set by the cycle, null elsewhere): rates are taken
    /// over the time between two readings, not between two cycle starts, so a slow discovery or source does not skew them.
    /// </summary>
    public DateTimeOffset? ReadAt { get; internal set; }

    public void Add(double value, params string[] labelValues)
    {
        if (Type == MetricType.Histogram)
        {
            throw new InvalidOperationException($"Metric '{Name}' is a histogram: add its series with AddHistogram.");
        }

        CheckLabels(labelValues);
        _samples.Add(new MetricSample(labelValues, value));
    }

    /// <summary>Adds one histogram series (only to a family of type <see cref="MetricType.Histogram"/>).</summary>
    public void AddHistogram(HistogramValue histogram, params string[] labelValues)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        if (Type != MetricType.Histogram)
        {
            throw new InvalidOperationException($"Metric '{Name}' is a {Type}, not a histogram.");
        }

        CheckLabels(labelValues);
        _samples.Add(new MetricSample(labelValues, histogram.Count, histogram));
    }

    private void CheckLabels(string[] labelValues)
    {
        if (labelValues.Length != LabelNames.Count)
        {
            throw new ArgumentException(
                $"Metric '{Name}' takes {LabelNames.Count} label value(s) ({string.Join(", ", LabelNames)}), got {labelValues.Length}.",
                nameof(labelValues));
        }
    }

    /// <summary>Replaces the value of the series at <paramref name="index"/> (a newer reading of the same series).</summary>
    internal void SetValue(int index, double value) => _samples[index] = _samples[index] with { Value = value };

    internal void Clear()
    {
        _samples.Clear();
        ReadAt = null;
    }
}

/// <summary>
/// Everything one collection cycle produced. Sources add samples into families obtained with <see cref="Family"/>;
/// asking twice for the same name returns the same family, asking with a different type, help or labels is a bug and throws.
/// </summary>
public sealed class MetricSet
{
    private readonly Dictionary<string, MetricFamily> _byName = new(StringComparer.Ordinal);
    private readonly List<MetricFamily> _ordered = new();

    public IReadOnlyList<MetricFamily> Families => _ordered;

    /// <summary>The family <paramref name="desc"/> declares, created on first use.</summary>
    public MetricFamily Family(MetricDesc desc)
    {
        ArgumentNullException.ThrowIfNull(desc);
        return Family(desc.Name, desc.Type, desc.Help, desc.LabelArray);
    }

    /// <summary>
    /// A family by its parts: for families whose name is not known until run time (the legacy naming's per-domain lines)
    /// and for samples rebuilt from the pipeline. Every family the probe declares goes through <see cref="Family(MetricDesc)"/>.
    /// </summary>

    public MetricFamily Family(string name, MetricType type, string help, params string[] labelNames)
    {
        if (_byName.TryGetValue(name, out var existing))
        {
            if (existing.Type != type || !existing.LabelNames.SequenceEqual(labelNames))
            {
                throw new InvalidOperationException(
                    $"Metric family '{name}' was declared as {existing.Type}({string.Join(",", existing.LabelNames)}) and again as {type}({string.Join(",", labelNames)}).");
            }

            return existing;
        }

        var family = new MetricFamily(name, type, help, labelNames);
        _byName.Add(name, family);
        _ordered.Add(family);
        return family;
    }

    public bool TryGet(string name, out MetricFamily family) => _byName.TryGetValue(name, out family!);

    /// <summary>Stamps <paramref name="readAt"/> on every family that has samples and no read time yet (those the source just run added).</summary>
    internal void StampReadTime(DateTimeOffset readAt)
    {
        foreach (var family in _ordered)
        {
            if (family.ReadAt is null && family.Samples.Count > 0)
            {
                family.ReadAt = readAt;
            }
        }
    }

    /// <summary>
    /// Removes every sample but keeps the families (and their sample lists' capacity), so that a set reused from
    /// cycle to cycle does not reallocate. A family nobody adds to this cycle stays, with zero samples.
    /// </summary>
    public void Reset()
    {
        foreach (var family in _ordered)
        {
            family.Clear();
        }
    }
}
