using System.Globalization;
using System.Text;

namespace VmProbe.Prometheus;

/// <summary>
/// Per-second rates of repeated readings, as Get-Counter's continuous sampling gives them: each reading's samples get
/// <c>Interval</c> (time since the previous reading of the same series) and <c>Rate</c> ((value - previous) / interval,
/// per second). A series is its family (or perf event) and labels: the perf scope, domain, uuid, vcpu, cpu and event of
/// a <see cref="VmPerfSample"/>; the family and labels of a <see cref="VmStatSample"/> (scope, metric, domain, uuid, vcpu
/// and device of one built by hand).
/// <list type="bullet">
/// <item>The first reading of a series has neither (null): there is nothing to take the difference from.</item>
/// <item>Gauges (a <see cref="VmStatSample"/> whose type is not counter) get an <c>Interval</c> and no <c>Rate</c>.</item>
/// <item>A counter reset (a value lower than the previous one: a thread or a domain gone, a counter restarted) gives a null
/// <c>Rate</c>, never a negative one: the amount counted since the reset is unknown. The next reading has a rate again.</item>
/// <item>A series missing from a reading is forgotten: when it comes back it starts again without a rate.</item>
/// </list>
/// Times are the caller's monotonic clock (a <see cref="System.Diagnostics.Stopwatch"/>), so wall-clock steps do not
/// distort rates. Not thread-safe: one instance per sampling command.
/// </summary>
public sealed class SampleRateTracker
{
    private Dictionary<string, Reading> _previous = new(StringComparer.Ordinal);
    private readonly StringBuilder _key = new();

    /// <summary>How many series the last reading had (the ones the next reading's rates are taken against).</summary>
    public int SeriesCount => _previous.Count;

    /// <summary>Sets <c>Interval</c> and <c>Rate</c> on every sample of one reading taken at <paramref name="readAt"/>.</summary>
    public void Apply(IEnumerable<object> samples, TimeSpan readAt)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var current = new Dictionary<string, Reading>(_previous.Count, StringComparer.Ordinal);
        foreach (var sample in samples)
        {
            switch (sample)
            {
                case VmPerfSample perf:
                    (perf.Interval, perf.Rate) = Next(current, KeyOf(perf), perf.Value, counter: true, readAt);
                    break;
                case VmStatSample stat:
                    (stat.Interval, stat.Rate) = Next(current, KeyOf(stat), stat.Value, IsCounter(stat), readAt);
                    break;
            }
        }

        _previous = current;
    }

    /// <summary>The rate of a counter from <paramref name="previous"/> to <paramref name="value"/>; null on a reset or without time.</summary>
    public static double? RateOf(double previous, double value, TimeSpan interval)
    {
        if (interval <= TimeSpan.Zero || double.IsNaN(value) || double.IsNaN(previous) || value < previous)
        {
            return null;
        }

        return (value - previous) / interval.TotalSeconds;
    }

    private (TimeSpan? Interval, double? Rate) Next(Dictionary<string, Reading> current, string key, double value, bool counter, TimeSpan readAt)
    {
        // A series given twice in one reading keeps its first value as the reference (the samples of a reading are one instant).
        current.TryAdd(key, new Reading(value, readAt));
        if (!_previous.TryGetValue(key, out var before))
        {
            return (null, null);
        }

        var interval = readAt - before.At;
        return (interval, counter ? RateOf(before.Value, value, interval) : null);
    }

    private static bool IsCounter(VmStatSample stat) =>
        stat.Family is null ? stat.Metric.EndsWith("_total", StringComparison.Ordinal) : stat.Type == MetricType.Counter;

    private string KeyOf(VmPerfSample perf)
    {
        _key.Clear().Append("perf\0").Append((int)perf.Scope).Append('\0').Append(perf.Domain).Append('\0')
            .Append(perf.Uuid?.ToString("D")).Append('\0').Append(Number(perf.Vcpu)).Append('\0').Append(Number(perf.Cpu))
            .Append('\0').Append(perf.Event);
        return _key.ToString();
    }

    private string KeyOf(VmStatSample stat)
    {
        _key.Clear();
        if (stat.Family is not null && stat.Labels is not null)
        {
            _key.Append("family\0").Append(stat.Family);
            foreach (System.Collections.DictionaryEntry label in stat.Labels)
            {
                _key.Append('\0').Append(label.Key).Append('=').Append(label.Value);
            }

            return _key.ToString();
        }

        _key.Append("stat\0").Append((int)stat.Scope).Append('\0').Append(stat.Metric).Append('\0').Append(stat.Domain)
            .Append('\0').Append(stat.Uuid?.ToString("D")).Append('\0').Append(Number(stat.Vcpu)).Append('\0').Append(stat.Device);
        return _key.ToString();
    }

    private static string? Number(int? value) => value?.ToString(CultureInfo.InvariantCulture);

    private readonly record struct Reading(double Value, TimeSpan At);
}
