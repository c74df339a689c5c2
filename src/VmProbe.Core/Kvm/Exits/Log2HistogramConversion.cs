namespace VmProbe.Kvm.Exits;

/// <summary>Min, mean, max and p99 estimated from a log2 histogram, in seconds (null when it holds no observation).</summary>
public readonly record struct LatencyEstimate(double Min, double Mean, double Max, double P99);

/// <summary>
/// Log2 nanosecond histograms (<see cref="Log2Histogram"/>) as Prometheus histograms in seconds, on a fixed bucket layout
/// so that a series keeps the same <c>le</c> set from cycle to cycle (observations below the first bound fall into the
/// first bucket, above the last into <c>+Inf</c>), and quantile estimates for the cmdlet.
/// </summary>
/// <remarks>
/// Slot i holds integers in [2^i, 2^(i+1)), so its exact inclusive bound is 2^(i+1)-1 ns (as <c>KvmStatsEmitter</c> bounds
/// KVM's own log histograms).
/// </remarks>
public static class Log2HistogramConversion
{
    /// <summary>Exit handling: slots 7..26, bounds 255 ns .. 134 ms.</summary>
    public static readonly (int First, int Last) ExitLayout = (7, 26);

    /// <summary>Halt/poll time of wakeups: slots 9..33, bounds 1 µs .. 17 s.</summary>
    public static readonly (int First, int Last) HaltLayout = (9, 33);

    /// <summary>The inclusive upper bound of slot <paramref name="slot"/>, in seconds.</summary>
    public static double UpperBoundSeconds(int slot) => (Math.Pow(2, slot + 1) - 1) / 1e9;

    /// <summary>The histogram on the slots <paramref name="layout"/> names; the sum in seconds when known.</summary>
    public static HistogramValue ToPrometheus(Log2Histogram histogram, (int First, int Last) layout)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        if (layout.First < 0 || layout.Last < layout.First || layout.Last >= Log2Histogram.MaxBuckets)
        {
            throw new ArgumentOutOfRangeException(nameof(layout), layout, "slots are 0..63, first <= last");
        }

        var bounds = new double[layout.Last - layout.First + 1];
        var counts = new double[bounds.Length + 1];
        for (var i = 0; i < bounds.Length; i++)
        {
            bounds[i] = UpperBoundSeconds(layout.First + i);
        }

        for (var slot = 0; slot < histogram.Buckets.Count && slot < Log2Histogram.MaxBuckets; slot++)
        {
            var index = Math.Clamp(slot - layout.First, 0, bounds.Length); // below: the first bucket; above: +Inf
            counts[index] += histogram.Buckets[slot];
        }

        return HistogramValue.FromBucketCounts(bounds, counts, histogram.SumNs is { } ns ? ns / 1e9 : null);
    }

    /// <summary>
    /// Estimates from the slots: min is the lower edge of the lowest non-empty slot, max the upper edge of the highest,
    /// mean the exact sum / count when the sum is known (else slot midpoints), p99 interpolated linearly within its slot
    /// (as Prometheus' histogram_quantile). Null for an empty histogram.
    /// </summary>
    public static LatencyEstimate? Estimate(Log2Histogram histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        var count = (double)histogram.Count;
        if (count <= 0)
        {
            return null;
        }

        int lowest = -1, highest = -1;
        double midpointSum = 0;
        for (var slot = 0; slot < histogram.Buckets.Count; slot++)
        {
            if (histogram.Buckets[slot] == 0)
            {
                continue;
            }

            if (lowest < 0)
            {
                lowest = slot;
            }

            highest = slot;
            midpointSum += histogram.Buckets[slot] * (Lower(slot) + Upper(slot)) / 2;
        }

        var mean = histogram.SumNs is { } sum ? sum / count : midpointSum / count;
        return new LatencyEstimate(Lower(lowest) / 1e9, mean / 1e9, Upper(highest) / 1e9, Quantile(histogram, 0.99, count) / 1e9);
    }

    private static double Quantile(Log2Histogram histogram, double q, double count)
    {
        var rank = q * count;
        double below = 0;
        for (var slot = 0; slot < histogram.Buckets.Count; slot++)
        {
            var inSlot = (double)histogram.Buckets[slot];
            if (inSlot > 0 && below + inSlot >= rank)
            {
                return Lower(slot) + ((Upper(slot) - Lower(slot)) * Math.Clamp((rank - below) / inSlot, 0, 1));
            }

            below += inSlot;
        }

        return Upper(histogram.Buckets.Count - 1);
    }

    private static double Lower(int slot) => slot == 0 ? 0 : Math.Pow(2, slot);

    private static double Upper(int slot) => Math.Pow(2, slot + 1);
}
