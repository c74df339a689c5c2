using System.Globalization;
using System.Text;
using VmProbe.Prometheus;
using Xunit;

namespace VmProbe.Tests.Prometheus;

/// <summary>
/// The writer's series key cache (PromTextWriter.Series.cs): every cycle's bytes equal the uncached path's, whatever
/// comes and goes, and the cache holds only what the last cycle wrote.
/// </summary>
public class SeriesKeyCacheTests
{
    // Every escape and some unicode: the keys are rendered once, so a mistake would repeat in every cycle after.
    private static readonly string[] AwkwardNames = ["odd \"vm\"", "back\\slash", "two\nlines", "ünïcødé-vm", "日本語 🚀", "\\\"\n", ""];

    private static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);

    /// <summary>A host with domains starting and stopping, values changing or not, families appearing and disappearing.</summary>
    private sealed class ChurningHost(int seed)
    {
        private readonly Random _random = new(seed);
        private readonly Dictionary<int, string[]> _labels = new();
        private readonly Dictionary<(int, int), string[]> _vcpuLabels = new();
        private int _next;

        public MetricSet Cycle(int cycle, MetricSet? reuse = null)
        {
            var set = reuse ?? new MetricSet();
            set.Reset();
            foreach (var gone in _labels.Keys.Where(_ => _random.Next(6) == 0).ToList())
            {
                _labels.Remove(gone);
            }

            while (_labels.Count < 8 || _random.Next(3) == 0)
            {
                var id = _next++;
                var name = id % 3 == 0 ? AwkwardNames[id / 3 % AwkwardNames.Length] + id.ToString(CultureInfo.InvariantCulture) : "vm-" + id;
                _labels[id] = [name, new Guid(id, 0, 0, new byte[8]).ToString()];
            }

            set.Family("probe_up", MetricType.Gauge, "Probe runs.").Add(1);
            var cpu = set.Family("domain_cpu_seconds_total", MetricType.Counter, "CPU \"time\" \\ of\nthe domain.", "domain", "uuid");
            var vcpuWait = set.Family("vcpu_wait_seconds_total", MetricType.Counter, "Wait.", "domain", "vcpu");
            var idle = set.Family("domain_idle", MetricType.Gauge, "Never changes.", "domain");
            foreach (var (id, labels) in _labels.OrderBy(p => _random.Next(4) == 0 ? -p.Key : p.Key)) // sometimes reordered
            {
                if (_random.Next(10) == 0)
                {
                    labels[0] = labels[0] + "'"; // a source mutating its own label array in place: a new series
                }

                cpu.Add(_random.Next(3) == 0 ? 5 : cycle + (id / 7d), labels);
                idle.Add(_random.Next(20) == 0 ? double.NaN : 0.5, labels[0]);
                for (var v = 0; v < 1 + (id % 3); v++)
                {
                    if (!_vcpuLabels.TryGetValue((id, v), out var vcpu))
                    {
                        _vcpuLabels[(id, v)] = vcpu = [labels[0], v.ToString(CultureInfo.InvariantCulture)];
                    }

                    vcpuWait.Add(cycle * 1e-3 * v, vcpu);
                }
            }

            if (cycle % 4 < 2)
            {
                // A family that comes and goes, with a histogram and a duplicate series now and then.
                var latency = set.Family("exit_latency_seconds", MetricType.Histogram, "Exit latency.", "domain");
                latency.AddHistogram(new HistogramValue([0.001, 0.01], [cycle, 2d * cycle], 3d * cycle, sum: cycle * 0.004), "vm \"h\"");
                latency.AddHistogram(new HistogramValue([0.001, 0.01], [1d, 1d], 1), string.Empty);
                var dup = set.Family("domain_threads", MetricType.Gauge, cycle % 8 == 0 ? "Threads." : "Threads (help changed).", "domain");
                dup.Add(3, "same");
                dup.Add(4, _random.Next(2) == 0 ? "same" : "other");
            }

            if (_random.Next(3) == 0)
            {
                set.Family("legacy_" + _random.Next(5), MetricType.Untyped, "Per-domain family of the legacy naming.").Add(cycle);
            }

            return set;
        }
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, true)]
    public void EveryCycleRendersTheUncachedBytes_UnderChurnEscapesAndFamiliesComingAndGoing(int seed, bool reuseSet)
    {
        var cached = new PromTextWriter("vmprobe");
        var uncached = new PromTextWriter("vmprobe") { CacheSeries = false };
        var host = new ChurningHost(seed);
        var reused = reuseSet ? new MetricSet() : null;
        var sawDuplicate = false;

        for (var cycle = 1; cycle <= 80; cycle++)
        {
            var set = host.Cycle(cycle, reused);
            var expected = Text(uncached.Render(set, out var expectedResult));
            var actual = Text(cached.Render(set, out var actualResult));

            Assert.Equal(expected, actual);
            Assert.Equal(expectedResult, actualResult);
            sawDuplicate |= actualResult.DuplicateSeriesDropped > 0;
        }

        Assert.True(sawDuplicate, "the churn never produced a duplicate series: the test lost its duplicate case");
    }

    /// <summary>The runner's <c>--once</c> writes its one file with <c>ExportLast</c>: the bytes of an export, no cache kept.</summary>
    [Fact]
    public void ExportLast_WritesTheBytesOfAnExport_AndKeepsNoSeriesKey()
    {
        var dir = Directory.CreateTempSubdirectory("vmprobe-last-").FullName;
        try
        {
            var set = new ChurningHost(5).Cycle(1); // escapes, a histogram and a duplicate series
            var once = new PromTextfileSink(Path.Combine(dir, "once.prom"), "vmprobe", NullProbeLog.Instance);
            var loop = new PromTextfileSink(Path.Combine(dir, "loop.prom"), "vmprobe", NullProbeLog.Instance);

            once.ExportLast(set);
            loop.Export(set);

            Assert.Equal(File.ReadAllText(Path.Combine(dir, "loop.prom")), File.ReadAllText(Path.Combine(dir, "once.prom")));
            Assert.Equal(loop.LastResult, once.LastResult);
            Assert.True(once.LastResult!.Value.DuplicateSeriesDropped > 0, "the set lost its duplicate case");
            Assert.Equal(0, once.CachedSeriesCount);
            Assert.Equal(loop.LastResult!.Value.Series, loop.CachedSeriesCount);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void CacheHoldsOnlyTheLastCyclesSeries_VmChurnDoesNotGrowIt()
    {
        var writer = new PromTextWriter("vmprobe");
        var host = new ChurningHost(7);
        var set = new MetricSet();
        var peak = 0;
        for (var cycle = 1; cycle <= 300; cycle++)
        {
            writer.Render(host.Cycle(cycle, set), out var result);

            Assert.Equal(result.Series, writer.CachedSeriesCount);
            Assert.Equal(result.Families, writer.CachedFamilyCount.Families);
            peak = Math.Max(peak, writer.CachedSeriesCount);
        }

        // Hundreds of domains came and went; the cache never held more than one cycle's worth.
        Assert.True(peak < 200, $"cache peaked at {peak} series");
        var (families, names, labelSets) = writer.CachedFamilyCount;
        Assert.True(names <= families + 1 && labelSets <= families + 1, $"name translations kept for gone families: {names}/{labelSets} for {families}");
    }

    [Fact]
    public void LabelArrayChangedInPlace_IsWrittenWithItsNewValues()
    {
        var writer = new PromTextWriter("vmprobe");
        var labels = new[] { "vm1", "0" };
        var set = new MetricSet();
        set.Family("vcpu_x", MetricType.Gauge, "h", "domain", "vcpu").Add(1, labels);
        Assert.Contains("vmprobe_vcpu_x{domain=\"vm1\",vcpu=\"0\"} 1\n", Text(writer.Render(set, out _)), StringComparison.Ordinal);

        labels[0] = "vm \"2\"";
        set.Reset();
        set.Family("vcpu_x", MetricType.Gauge, "h", "domain", "vcpu").Add(1, labels);
        var text = Text(writer.Render(set, out _));

        Assert.Contains("vmprobe_vcpu_x{domain=\"vm \\\"2\\\"\",vcpu=\"0\"} 1\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("vm1", text, StringComparison.Ordinal);
        Assert.Equal(1, writer.CachedSeriesCount);
    }

    [Fact]
    public void SameLabelArrayAddedTwice_SecondIsADuplicateEveryCycle()
    {
        var writer = new PromTextWriter("vmprobe");
        var labels = new[] { "vm1" };
        var set = new MetricSet();
        for (var cycle = 0; cycle < 3; cycle++)
        {
            set.Reset();
            var family = set.Family("x", MetricType.Gauge, "h", "domain");
            family.Add(cycle, labels);
            family.Add(99, labels);

            var text = Text(writer.Render(set, out var result));

            Assert.Equal(new PromWriteResult(1, 1, 1, 0), result);
            Assert.EndsWith($"vmprobe_x{{domain=\"vm1\"}} {cycle}\n", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void FamilyRedeclaredWithOtherLabelsOrHelp_GetsNewKeysAndHeader()
    {
        var writer = new PromTextWriter("vmprobe");
        var first = new MetricSet();
        first.Family("x", MetricType.Gauge, "old help", "domain").Add(1, "vm1");
        writer.Render(first, out _);

        var second = new MetricSet();
        second.Family("x", MetricType.Counter, "new help", "domain", "vcpu").Add(1, "vm1", "0");

        Assert.Equal(
            "# HELP vmprobe_x new help\n# TYPE vmprobe_x counter\nvmprobe_x{domain=\"vm1\",vcpu=\"0\"} 1\n",
            Text(writer.Render(second, out _)));
    }

    [Fact]
    public void UnchangedValueKeepsItsLine_ChangedValueIsReformatted()
    {
        var writer = new PromTextWriter("vmprobe");
        var labels = new[] { "vm1" };
        string Cycle(double value)
        {
            var set = new MetricSet();
            set.Family("x", MetricType.Gauge, "h", "domain").Add(value, labels);
            return Text(writer.Render(set, out _));
        }

        Assert.EndsWith("} 0.1\n", Cycle(0.1), StringComparison.Ordinal);
        Assert.EndsWith("} 0.1\n", Cycle(0.1), StringComparison.Ordinal);
        Assert.EndsWith("} -1.5E-300\n", Cycle(-1.5e-300), StringComparison.Ordinal); // the longest kind of value fits
        Assert.EndsWith("} 7\n", Cycle(7), StringComparison.Ordinal); // shorter than the last: no leftover bytes
        Assert.EndsWith("} NaN\n", Cycle(double.NaN), StringComparison.Ordinal);
    }

    [Fact]
    public void RunnerSink_EachCyclesFileIsTheUncachedRender()
    {
        // The runner's and Invoke-VmProbeCycle's sink: one writer (cached) reused across cycles, one atomic file.
        var dir = Directory.CreateTempSubdirectory("vmprobe-keys-test-").FullName;
        try
        {
            var sink = new PromTextfileSink(Path.Combine(dir, "vmprobe.prom"), "vmprobe", NullProbeLog.Instance);
            var uncached = new PromTextWriter("vmprobe") { CacheSeries = false };
            var host = new ChurningHost(11);
            var set = new MetricSet();
            for (var cycle = 1; cycle <= 20; cycle++)
            {
                sink.Export(host.Cycle(cycle, set));

                Assert.Equal(Text(uncached.Render(set, out _)), File.ReadAllText(sink.Destination, Encoding.UTF8));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
