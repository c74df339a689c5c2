using System.Globalization;
using System.Text;

namespace VmProbe;

/// <summary>One bucket of a <see cref="HistogramValue"/>: observations less than or equal to <see cref="UpperBound"/>
/// (cumulative, as Prometheus' <c>le</c>), the last one with <see cref="double.PositiveInfinity"/>.</summary>
public readonly record struct HistogramBucket(double UpperBound, double CumulativeCount)
{
    public override string ToString() =>
        $"le={(double.IsPositiveInfinity(UpperBound) ? "+Inf" : UpperBound.ToString("G", CultureInfo.InvariantCulture))}: {CumulativeCount.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>
/// The value of one histogram series, as Prometheus exposes it: cumulative buckets with ascending finite upper bounds
/// (in the family's base unit), the total count (the <c>+Inf</c> bucket) and, when the producer knows it, the sum of the
/// observations (KVM's histograms carry none: then no <c>_sum</c> line is written).
/// </summary>
public sealed class HistogramValue
{
    private readonly double[] _upperBounds; // may be shared by the values of one source's statistic: never written
    private readonly double[] _cumulative;
    private IReadOnlyList<double>? _upperBoundsView;
    private IReadOnlyList<double>? _cumulativeView;

    /// <param name="upperBounds">Finite, strictly ascending upper bounds (inclusive); the +Inf bucket is implied.</param>
    /// <param name="cumulativeCounts">Observations less than or equal to each bound: non-decreasing, at most <paramref name="count"/>.</param>
    /// <param name="count">All observations (the +Inf bucket).</param>
    /// <param name="sum">Sum of the observations, or null when unknown.</param>
    public HistogramValue(IReadOnlyList<double> upperBounds, IReadOnlyList<double> cumulativeCounts, double count, double? sum = null)
    {
        ArgumentNullException.ThrowIfNull(upperBounds);
        ArgumentNullException.ThrowIfNull(cumulativeCounts);
        if (upperBounds.Count != cumulativeCounts.Count)
        {
            throw new ArgumentException($"{upperBounds.Count} upper bounds but {cumulativeCounts.Count} bucket counts.", nameof(cumulativeCounts));
        }

        var previousBound = double.NegativeInfinity;
        var previousCount = 0d;
        for (var i = 0; i < upperBounds.Count; i++)
        {
            var bound = upperBounds[i];
            if (!double.IsFinite(bound) || bound <= previousBound)
            {
                throw new ArgumentException($"Upper bound {bound} (bucket {i}) is not finite and greater than the previous one.", nameof(upperBounds));
            }

            var cumulative = cumulativeCounts[i];
            if (!(cumulative >= previousCount))
            {
                throw new ArgumentException($"Bucket {i} holds {cumulative}, fewer than the bucket before it ({previousCount}): counts must be cumulative.", nameof(cumulativeCounts));
            }

            previousBound = bound;
            previousCount = cumulative;
        }

        if (!(count >= previousCount))
        {
            throw new ArgumentException($"Count {count} is smaller than the last bucket ({previousCount}).", nameof(count));
        }

        _upperBounds = upperBounds.ToArray();
        _cumulative = cumulativeCounts.ToArray();
        Count = count;
        Sum = sum;
    }

    // Trusted: the caller's bounds are strictly ascending and finite and are not changed afterwards (shared, not copied).
    private HistogramValue(double[] upperBounds, double[] cumulative, double count)
    {
        _upperBounds = upperBounds;
        _cumulative = cumulative;
        Count = count;
    }

    /// <summary>
    /// A histogram from per-bucket counts (one per bound plus the last) over bounds checked once by
    /// <see cref="AreValidBounds"/> and shared by every value made from them: for a source that writes the same
    /// buckets every cycle, only the cumulative counts are new.
    /// </summary>
    internal static HistogramValue FromCheckedBounds(double[] upperBounds, ReadOnlySpan<ulong> bucketCounts)
    {
        if (bucketCounts.Length != upperBounds.Length + 1)
        {
            throw new ArgumentException($"{upperBounds.Length} finite bounds need {upperBounds.Length + 1} bucket counts, got {bucketCounts.Length}.", nameof(bucketCounts));
        }

        var cumulative = new double[upperBounds.Length];
        var running = 0d;
        for (var i = 0; i < cumulative.Length; i++)
        {
            running += bucketCounts[i];
            cumulative[i] = running;
        }

        return new HistogramValue(upperBounds, cumulative, running + bucketCounts[^1]);
    }

    /// <summary>Whether <paramref name="upperBounds"/> are finite and strictly ascending, as every histogram's must be.</summary>
    internal static bool AreValidBounds(ReadOnlySpan<double> upperBounds)
    {
        var previous = double.NegativeInfinity;
        foreach (var bound in upperBounds)
        {
            if (!double.IsFinite(bound) || bound <= previous)
            {
                return false;
            }

            previous = bound;
        }

        return true;
    }

    /// <summary>A histogram from per-bucket (not cumulative) counts: one per finite bound plus one last for everything above.</summary>
    public static HistogramValue FromBucketCounts(IReadOnlyList<double> upperBounds, IReadOnlyList<double> bucketCounts, double? sum = null)
    {
        ArgumentNullException.ThrowIfNull(upperBounds);
        ArgumentNullException.ThrowIfNull(bucketCounts);
        if (bucketCounts.Count != upperBounds.Count + 1)
        {
            throw new ArgumentException($"{upperBounds.Count} finite bounds need {upperBounds.Count + 1} bucket counts, got {bucketCounts.Count}.", nameof(bucketCounts));
        }

        var cumulative = new double[upperBounds.Count];
        var running = 0d;
        for (var i = 0; i < cumulative.Length; i++)
        {
            running += bucketCounts[i];
            cumulative[i] = running;
        }

        return new HistogramValue(upperBounds, cumulative, running + bucketCounts[^1], sum);
    }

    /// <summary>Finite upper bounds, ascending (read-only: the array behind them may be shared with other values).</summary>
    public IReadOnlyList<double> UpperBounds => _upperBoundsView ??= Array.AsReadOnly(_upperBounds);

    /// <summary>The bounds and the cumulative counts for the writer, without a view or a copy.</summary>
    internal ReadOnlySpan<double> UpperBoundSpan => _upperBounds;

    internal ReadOnlySpan<double> CumulativeSpan => _cumulative;

    /// <summary>Cumulative count of each finite bound.</summary>
    public IReadOnlyList<double> CumulativeCounts => _cumulativeView ??= Array.AsReadOnly(_cumulative);

    /// <summary>All observations (the <c>+Inf</c> bucket, the <c>_count</c> series).</summary>
    public double Count { get; }

    /// <summary>Sum of the observations (the <c>_sum</c> series), or null when the producer does not know it.</summary>
    public double? Sum { get; }

    /// <summary>Every bucket with its cumulative count, the <c>+Inf</c> bucket last: for tables and scripts.</summary>
    public IReadOnlyList<HistogramBucket> Buckets
    {
        get
        {
            var buckets = new HistogramBucket[_upperBounds.Length + 1];
            for (var i = 0; i < _upperBounds.Length; i++)
            {
                buckets[i] = new HistogramBucket(_upperBounds[i], _cumulative[i]);
            }

            buckets[^1] = new HistogramBucket(double.PositiveInfinity, Count);
            return buckets;
        }
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("count=").Append(Count.ToString(CultureInfo.InvariantCulture));
        if (Sum is { } sum)
        {
            text.Append(" sum=").Append(sum.ToString(CultureInfo.InvariantCulture));
        }

        text.Append(" [");
        text.AppendJoin(", ", Buckets);
        text.Append(']');
        return text.ToString();
    }
}
