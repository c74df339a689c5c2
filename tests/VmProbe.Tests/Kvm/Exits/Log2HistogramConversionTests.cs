using VmProbe.Kvm.Exits;
using Xunit;

namespace VmProbe.Tests.Kvm.Exits;

public class Log2HistogramConversionTests
{
    private static Log2Histogram Slots(ulong? sum, params (int Slot, ulong Count)[] slots)
    {
        var buckets = new ulong[slots.Max(s => s.Slot) + 1];
        foreach (var (slot, count) in slots)
        {
            buckets[slot] = count;
        }

        return new Log2Histogram(buckets, sum);
    }

    [Fact]
    public void BucketsAreCumulativeSecondsOnTheFixedLayout()
    {
        // 3 below the layout (slot 5: 32..63 ns), 4 in slot 10 (1024..2047 ns), 1 above it (slot 30): +Inf only.
        var value = Log2HistogramConversion.ToPrometheus(Slots(12_345, (5, 3), (10, 4), (30, 1)), Log2HistogramConversion.ExitLayout);

        Assert.Equal(20, value.UpperBounds.Count);
        Assert.Equal(255e-9, value.UpperBounds[0], 15);
        Assert.Equal(3, value.CumulativeCounts[0]); // folded into the first bucket
        var slot10 = 10 - Log2HistogramConversion.ExitLayout.First;
        Assert.Equal(2047e-9, value.UpperBounds[slot10], 15);
        Assert.Equal(3, value.CumulativeCounts[slot10 - 1]); // still 3 just below slot 10
        Assert.Equal(7, value.CumulativeCounts[slot10]);
        Assert.Equal(7, value.CumulativeCounts[^1]);
        Assert.Equal(8, value.Count);
        Assert.Equal(12_345e-9, value.Sum!.Value, 15);
        Assert.Equal((Math.Pow(2, 27) - 1) / 1e9, value.UpperBounds[^1], 12);
    }

    [Fact]
    public void EmptyAndSumlessHistogramsKeepTheLayout()
    {
        var empty = Log2HistogramConversion.ToPrometheus(Log2Histogram.Empty, Log2HistogramConversion.HaltLayout);
        Assert.Equal(0, empty.Count);
        Assert.Equal(25, empty.UpperBounds.Count);
        Assert.Null(Log2HistogramConversion.ToPrometheus(Slots(null, (12, 1)), Log2HistogramConversion.HaltLayout).Sum);
        Assert.Null(Log2HistogramConversion.Estimate(Log2Histogram.Empty));
    }

    [Fact]
    public void EstimatesComeFromTheSlots()
    {
        var estimate = Log2HistogramConversion.Estimate(Slots(99 * 1500 + 1_500_000, (10, 99), (20, 1)))!.Value;
        Assert.Equal(1024e-9, estimate.Min, 15);
        Assert.Equal(Math.Pow(2, 21) / 1e9, estimate.Max, 15);
        Assert.Equal((99 * 1500 + 1_500_000) / 100.0 / 1e9, estimate.Mean, 15);
        Assert.Equal(2048e-9, estimate.P99, 15); // rank 99 is the top of slot 10

        // Rank 0.99 x 101 = 99.99 falls into slot 20 (2 observations): interpolated 0.495 of the way.
        var upper = Log2HistogramConversion.Estimate(Slots(null, (10, 99), (20, 2)))!.Value;
        Assert.Equal((Math.Pow(2, 20) * 1.495) / 1e9, upper.P99, 12);
        Assert.Equal(((99 * 1536.0) + (2 * 1.5 * Math.Pow(2, 20))) / 101 / 1e9, upper.Mean, 12); // midpoints without a sum
    }

    [Fact]
    public void DifferencesAndSums()
    {
        var before = Slots(100, (3, 2), (4, 1));
        var after = Slots(400, (3, 5), (4, 1), (6, 2));
        var delta = after.Since(before);
        Assert.Equal(new ulong[] { 0, 0, 0, 3, 0, 0, 2 }, delta.Buckets);
        Assert.Equal(300UL, delta.SumNs);
        Assert.Same(before, before.Since(after)); // a reset: the newer one whole
        Assert.Equal(new ulong[] { 0, 0, 0, 7, 2, 0, 2 }, before.Add(after).Buckets);
        Assert.Null(before.Add(Slots(null, (1, 1))).SumNs);
    }
}
