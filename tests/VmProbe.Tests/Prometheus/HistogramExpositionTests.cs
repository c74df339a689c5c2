using System.Text;
using VmProbe.Prometheus;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Prometheus;

/// <summary><see cref="MetricType.Histogram"/>: cumulative <c>_bucket{le}</c> ending with +Inf, <c>_sum</c> when known, <c>_count</c>.</summary>
public class HistogramExpositionTests
{
    private static string Render(MetricSet set) => Encoding.UTF8.GetString(new PromTextWriter("vmprobe").Render(set, out _).Span);

    private static MetricSet Sample()
    {
        var set = new MetricSet();
        var family = set.Family("domain_kvm_halt_poll_success_hist_seconds", MetricType.Histogram, "Halt poll successes by duration.", "domain", "uuid");
        family.AddHistogram(HistogramValue.FromBucketCounts(new[] { 0d, 1e-6, 2.5 }, new[] { 1d, 2d, 0d, 4d }), "vm1", "u1");
        family.AddHistogram(new HistogramValue(new[] { 1d }, new[] { 3d }, 5, sum: 7.5), "vm2", "u2");
        var noLabels = set.Family("host_kvm_hist", MetricType.Histogram, "Unlabelled.");
        noLabels.AddHistogram(HistogramValue.FromBucketCounts(new[] { 10d }, new[] { 2d, 1d }));
        return set;
    }

    [Fact]
    public void RendersCumulativeBucketsInfSumAndCount()
    {
        Assert.Equal(
            "# HELP vmprobe_domain_kvm_halt_poll_success_hist_seconds Halt poll successes by duration.\n"
            + "# TYPE vmprobe_domain_kvm_halt_poll_success_hist_seconds histogram\n"
            + "vmprobe_domain_kvm_halt_poll_success_hist_seconds_bucket{domain=\"vm1\",uuid=\"u1\",le=\"0\"} 1\n"
            + "vmprobe_domain_kvm_halt_poll_success_hist_seconds_bucket{domain=\"vm1\",uuid=\"u1\",le=\"1E-06\"} 3\n"
            + "vmprobe_domain_kvm_halt_poll_success_hist_seconds_bucket{domain=\"vm1\",uuid=\"u1\",le=\"2.5\"} 3\n"
            + "vmprobe_domain_kvm_halt_poll_success_hist_seconds_bucket{domain=\"vm1\",uuid=\"u1\",le=\"+Inf\"} 7\n"
            + "vmprobe_domain_kvm_halt_poll_success_hist_seconds_count{domain=\"vm1\",uuid=\"u1\"} 7\n"
            + "vmprobe_domain_kvm_halt_poll_success_hist_seconds_bucket{domain=\"vm2\",uuid=\"u2\",le=\"1\"} 3\n"
            + "vmprobe_domain_kvm_halt_poll_success_hist_seconds_bucket{domain=\"vm2\",uuid=\"u2\",le=\"+Inf\"} 5\n"
            + "vmprobe_domain_kvm_halt_poll_success_hist_seconds_sum{domain=\"vm2\",uuid=\"u2\"} 7.5\n"
            + "vmprobe_domain_kvm_halt_poll_success_hist_seconds_count{domain=\"vm2\",uuid=\"u2\"} 5\n"
            + "# HELP vmprobe_host_kvm_hist Unlabelled.\n"
            + "# TYPE vmprobe_host_kvm_hist histogram\n"
            + "vmprobe_host_kvm_hist_bucket{le=\"10\"} 2\n"
            + "vmprobe_host_kvm_hist_bucket{le=\"+Inf\"} 3\n"
            + "vmprobe_host_kvm_hist_count 3\n",
            Render(Sample()));
    }

    [SkippableFact]
    public void PromtoolAcceptsHistogramsWithoutLint()
    {
        Skip.IfNot(Promtool.IsAvailable, Promtool.UnavailableReason);

        var (exitCode, output) = Promtool.Check(Render(Sample()));

        Assert.Equal(string.Empty, output);
        Assert.Equal(0, exitCode);
    }

    [Fact]
    public void FlattenAndBackRendersTheSameAndKeepsBucketsReadable()
    {
        var set = Sample();
        var flat = MetricSetFlattener.ToStatSamples(set, DateTimeOffset.UnixEpoch);

        var first = flat[0];
        Assert.Equal(MetricType.Histogram, first.Type);
        Assert.Equal(7, first.Value);
        Assert.Equal(new[] { 1d, 3d, 3d, 7d }, first.Histogram!.Buckets.Select(b => b.CumulativeCount));
        Assert.True(double.IsPositiveInfinity(first.Histogram.Buckets[^1].UpperBound));
        Assert.Equal(Render(set), Render(SampleExposition.ToMetricSet(flat)));
    }

    [Fact]
    public void MisuseIsRejected()
    {
        var set = new MetricSet();
        var histogram = set.Family("h", MetricType.Histogram, "h");
        var gauge = set.Family("g", MetricType.Gauge, "g");
        var value = HistogramValue.FromBucketCounts(new[] { 1d }, new[] { 1d, 1d });

        Assert.Throws<InvalidOperationException>(() => histogram.Add(1));
        Assert.Throws<InvalidOperationException>(() => gauge.AddHistogram(value));
        Assert.Throws<ArgumentException>(() => new HistogramValue(new[] { 2d, 1d }, new[] { 0d, 0d }, 0));
        Assert.Throws<ArgumentException>(() => new HistogramValue(new[] { 1d, 2d }, new[] { 2d, 1d }, 2));
        Assert.Throws<ArgumentException>(() => new HistogramValue(new[] { 1d }, new[] { 2d }, 1));
        Assert.Throws<ArgumentException>(() => new HistogramValue(new[] { double.PositiveInfinity }, new[] { 0d }, 0));
    }

    [Fact]
    public void AHistogramWithAnLeLabelIsDroppedNotWritten()
    {
        var set = new MetricSet();
        set.Family("bad", MetricType.Histogram, "bad", "le").AddHistogram(HistogramValue.FromBucketCounts(new[] { 1d }, new[] { 1d, 1d }), "x");

        var bytes = new PromTextWriter("vmprobe").Render(set, out var result);

        Assert.Equal(0, bytes.Length);
        Assert.Equal(1, result.ClashingFamiliesDropped);
    }
}
