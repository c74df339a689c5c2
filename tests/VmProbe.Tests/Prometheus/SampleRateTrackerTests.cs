using System.Collections.Specialized;
using Xunit;
using VmProbe.Prometheus;

namespace VmProbe.Tests.Prometheus;

public class SampleRateTrackerTests
{
    private static readonly Guid Uuid = Guid.Parse("6695eb01-f6a4-8304-79aa-97f2502e193f");

    private static VmStatSample Stat(string family, MetricType type, double value, params string[] labels)
    {
        var dictionary = new OrderedDictionary();
        for (var i = 0; i < labels.Length; i += 2)
        {
            dictionary.Add(labels[i], labels[i + 1]);
        }

        return new VmStatSample { Scope = VmSampleScope.Host, Metric = family, Family = family, Type = type, Labels = dictionary, Value = value };
    }

    private static VmPerfSample Perf(double value, int? vcpu = null) =>
        new() { Scope = vcpu is null ? VmSampleScope.Domain : VmSampleScope.Vcpu, Domain = "web1", Uuid = Uuid, Vcpu = vcpu, Event = "task_clock", Value = value };

    [Fact]
    public void FirstReadingOfASeriesHasNoIntervalNorRate()
    {
        var tracker = new SampleRateTracker();
        var first = Stat("host_cpu_seconds_total", MetricType.Counter, 10, "mode", "user");
        tracker.Apply(new object[] { first }, TimeSpan.FromSeconds(5));

        Assert.Null(first.Interval);
        Assert.Null(first.Rate);
        Assert.Equal(1, tracker.SeriesCount);
    }

    [Fact]
    public void CounterRateIsTheIncreasePerSecondOfTheSameSeries()
    {
        var tracker = new SampleRateTracker();
        tracker.Apply(new object[] { Stat("host_cpu_seconds_total", MetricType.Counter, 10, "mode", "user"), Stat("host_cpu_seconds_total", MetricType.Counter, 100, "mode", "idle") }, TimeSpan.FromSeconds(1));
        var user = Stat("host_cpu_seconds_total", MetricType.Counter, 11, "mode", "user");
        var idle = Stat("host_cpu_seconds_total", MetricType.Counter, 100.5, "mode", "idle");
        tracker.Apply(new object[] { idle, user }, TimeSpan.FromSeconds(1.5));

        Assert.Equal(TimeSpan.FromSeconds(0.5), user.Interval);
        Assert.Equal(2.0, user.Rate);
        Assert.Equal(1.0, idle.Rate);
    }

    [Fact]
    public void GaugeGetsAnIntervalButNoRate()
    {
        var tracker = new SampleRateTracker();
        tracker.Apply(new object[] { Stat("host_memory_available_bytes", MetricType.Gauge, 1000) }, TimeSpan.Zero);
        var gauge = Stat("host_memory_available_bytes", MetricType.Gauge, 2000);
        tracker.Apply(new object[] { gauge }, TimeSpan.FromSeconds(1));

        Assert.Equal(TimeSpan.FromSeconds(1), gauge.Interval);
        Assert.Null(gauge.Rate);
    }

    [Fact]
    public void HandBuiltStatTakesCounterFromTheTotalSuffix()
    {
        var tracker = new SampleRateTracker();
        tracker.Apply(new object[] { new VmStatSample { Metric = "ctxt_total", Value = 1 }, new VmStatSample { Metric = "load1", Value = 1 } }, TimeSpan.Zero);
        var counter = new VmStatSample { Metric = "ctxt_total", Value = 5 };
        var gauge = new VmStatSample { Metric = "load1", Value = 3 };
        tracker.Apply(new object[] { counter, gauge }, TimeSpan.FromSeconds(2));

        Assert.Equal(2.0, counter.Rate);
        Assert.Null(gauge.Rate);
    }

    [Fact]
    public void CounterResetGivesNoRateNeverANegativeOneAndTheNextReadingHasOneAgain()
    {
        var tracker = new SampleRateTracker();
        tracker.Apply(new object[] { Perf(1000) }, TimeSpan.Zero);
        var reset = Perf(400); // a thread of the domain exited: the sum went down
        tracker.Apply(new object[] { reset }, TimeSpan.FromSeconds(1));
        var after = Perf(700);
        tracker.Apply(new object[] { after }, TimeSpan.FromSeconds(2));

        Assert.Equal(TimeSpan.FromSeconds(1), reset.Interval);
        Assert.Null(reset.Rate);
        Assert.Equal(300.0, after.Rate);
    }

    [Fact]
    public void SeriesAreKeyedByLabelsNotByPosition()
    {
        var tracker = new SampleRateTracker();
        tracker.Apply(new object[] { Perf(100), Perf(10, vcpu: 0), Perf(20, vcpu: 1) }, TimeSpan.Zero);
        var vcpu1 = Perf(30, vcpu: 1);
        var vcpu0 = Perf(40, vcpu: 0);
        var domain = Perf(200);
        tracker.Apply(new object[] { vcpu1, vcpu0, domain }, TimeSpan.FromSeconds(1));

        Assert.Equal(10.0, vcpu1.Rate);
        Assert.Equal(30.0, vcpu0.Rate);
        Assert.Equal(100.0, domain.Rate);
    }

    [Fact]
    public void ASeriesMissingFromAReadingStartsAgainWithoutRate()
    {
        var tracker = new SampleRateTracker();
        tracker.Apply(new object[] { Perf(1), Perf(1, vcpu: 0) }, TimeSpan.Zero);
        tracker.Apply(new object[] { Perf(2) }, TimeSpan.FromSeconds(1));
        var back = Perf(5, vcpu: 0);
        tracker.Apply(new object[] { Perf(3), back }, TimeSpan.FromSeconds(2));

        Assert.Null(back.Interval);
        Assert.Null(back.Rate);
        Assert.Equal(2, tracker.SeriesCount);
    }

    [Theory]
    [InlineData(10, 5, 1)]
    [InlineData(5, 10, 0)]
    [InlineData(5, 10, -1)]
    public void RateOfIsNullOnResetOrWithoutTime(double previous, double value, double seconds)
    {
        Assert.Null(SampleRateTracker.RateOf(previous, value, TimeSpan.FromSeconds(seconds)));
    }

    [Fact]
    public void RepeatedReadingsExposeEachSeriesOnceWithItsNewestValue()
    {
        var set = SampleExposition.ToMetricSet(new object[]
        {
            Stat("host_cpu_seconds_total", MetricType.Counter, 10, "mode", "user"), Perf(1), new VmStatSample { Metric = "ctxt_total", Value = 1 },
            Stat("host_cpu_seconds_total", MetricType.Counter, 11, "mode", "user"), Perf(2), new VmStatSample { Metric = "ctxt_total", Value = 2 },
        });

        Assert.True(set.TryGet("host_cpu_seconds_total", out var cpu));
        Assert.Equal(11, cpu.Samples.Single().Value);
        Assert.True(set.TryGet("domain_perf_events_total", out var perf));
        Assert.Equal(2, perf.Samples.Single().Value);
        Assert.True(set.TryGet("domain_perf_scaling_ratio", out var ratio));
        Assert.Single(ratio.Samples);
        Assert.True(set.TryGet("host_ctxt_total", out var ctxt));
        Assert.Equal(2, ctxt.Samples.Single().Value);
    }
}
