using System.Buffers;
using System.Globalization;
using System.Text;
using VmProbe.Prometheus;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Prometheus;

public class PromTextWriterTests
{
    private static string Render(MetricSet set, string prefix = "vmprobe", IProbeLog? log = null) =>
        Render(set, out _, prefix, log);

    private static string Render(MetricSet set, out PromWriteResult result, string prefix = "vmprobe", IProbeLog? log = null)
    {
        var bytes = new PromTextWriter(prefix, log).Render(set, out result);
        return Encoding.UTF8.GetString(bytes.Span);
    }

    [Fact]
    public void WritesHelpTypeAndSamplesWithPrefix()
    {
        var set = new MetricSet();
        set.Family("vm_cpu_seconds_total", MetricType.Counter, "CPU time of the VM.", "domain").Add(12.5, "vm1");
        set.Family("host_up", MetricType.Gauge, "1 when the probe runs.").Add(1);

        Assert.Equal(
            "# HELP vmprobe_vm_cpu_seconds_total CPU time of the VM.\n" +
            "# TYPE vmprobe_vm_cpu_seconds_total counter\n" +
            "vmprobe_vm_cpu_seconds_total{domain=\"vm1\"} 12.5\n" +
            "# HELP vmprobe_host_up 1 when the probe runs.\n" +
            "# TYPE vmprobe_host_up gauge\n" +
            "vmprobe_host_up 1\n",
            Render(set));
    }

    [Fact]
    public void EscapesLabelValuesBackslashQuoteNewline()
    {
        var set = new MetricSet();
        set.Family("x", MetricType.Gauge, "h", "name").Add(1, "a\\b\"c\nd é");

        Assert.Contains("vmprobe_x{name=\"a\\\\b\\\"c\\nd é\"} 1\n", Render(set), StringComparison.Ordinal);
    }

    [Fact]
    public void EscapesHelpBackslashAndNewlineButNotQuote()
    {
        var set = new MetricSet();
        set.Family("x", MetricType.Gauge, "path C:\\x\nsecond \"line\"").Add(1);

        Assert.StartsWith("# HELP vmprobe_x path C:\\\\x\\nsecond \"line\"\n", Render(set), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("my-probe", "host.cpu", "my_probe_host_cpu")]
    [InlineData("vmprobe", "9lives", "vmprobe_9lives")]
    [InlineData("", "9lives", "_9lives")]
    [InlineData("", "a:b-c", "a:b_c")]
    [InlineData("1st", "x", "_1st_x")]
    public void SanitizesMetricNames(string prefix, string name, string expected)
    {
        var set = new MetricSet();
        set.Family(name, MetricType.Gauge, "h").Add(1);

        Assert.Contains($"\n{expected} 1\n", Render(set, prefix), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("vcpu", "vcpu")]
    [InlineData("cpu:id", "cpu_id")]
    [InlineData("domain-name", "domain_name")]
    [InlineData("0x", "_0x")]
    [InlineData("ünï", "_n_")]
    public void SanitizesLabelNamesWithoutColon(string label, string expected)
    {
        var set = new MetricSet();
        set.Family("x", MetricType.Gauge, "h", label).Add(1, "v");

        Assert.Contains($"vmprobe_x{{{expected}=\"v\"}} 1\n", Render(set), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(0d, "0")]
    [InlineData(-3d, "-3")]
    [InlineData(1e15, "1000000000000000")]
    [InlineData(9007199254740992d, "9007199254740992")]
    [InlineData(0.1, "0.1")]
    [InlineData(1.5e-9, "1.5E-09")]
    [InlineData(1e300, "1E+300")]
    [InlineData(18446744073709551615d, "1.8446744073709552E+19")]
    public void FormatsValues(double value, string expected)
    {
        Span<byte> buffer = stackalloc byte[64];
        var written = PromTextWriter.FormatValue(value, buffer);

        Assert.Equal(expected, Encoding.ASCII.GetString(buffer[..written]));
    }

    [Fact]
    public void FormattedValuesRoundTrip()
    {
        var random = new Random(12345);
        Span<byte> buffer = stackalloc byte[64];
        for (var i = 0; i < 10_000; i++)
        {
            var value = BitConverter.Int64BitsToDouble(random.NextInt64());
            if (!double.IsFinite(value))
            {
                continue;
            }

            var text = Encoding.ASCII.GetString(buffer[..PromTextWriter.FormatValue(value, buffer)]);
            Assert.Equal(value, double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public void NonFiniteValuesInOutput()
    {
        var set = new MetricSet();
        var family = set.Family("ratio", MetricType.Gauge, "h", "k");
        family.Add(double.NaN, "nan");
        family.Add(double.PositiveInfinity, "pinf");
        family.Add(double.NegativeInfinity, "ninf");

        var text = Render(set);

        Assert.Contains("vmprobe_ratio{k=\"nan\"} NaN\n", text, StringComparison.Ordinal);
        Assert.Contains("vmprobe_ratio{k=\"pinf\"} +Inf\n", text, StringComparison.Ordinal);
        Assert.Contains("vmprobe_ratio{k=\"ninf\"} -Inf\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateSeriesAreDroppedFirstWinsAndReported()
    {
        var log = new ListLog();
        var set = new MetricSet();
        var family = set.Family("vcpu_wait_seconds_total", MetricType.Counter, "h", "domain", "vcpu");
        family.Add(1, "vm1", "0");
        family.Add(2, "vm1", "1");
        family.Add(3, "vm1", "0");
        family.Add(4, "vm1", "0");

        var text = Render(set, out var result, log: log);

        Assert.Equal(new PromWriteResult(1, 2, 2, 0), result);
        Assert.Single(text.Split('\n'), l => l.StartsWith("vmprobe_vcpu_wait_seconds_total{domain=\"vm1\",vcpu=\"0\"}", StringComparison.Ordinal));
        Assert.Contains("vmprobe_vcpu_wait_seconds_total{domain=\"vm1\",vcpu=\"0\"} 1\n", text, StringComparison.Ordinal);
        var warning = Assert.Single(log.Lines);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("2 duplicate series", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoDomainsWithOneName_DuplicateWarningIsLoggedOncePerChange_NotEveryCycle()
    {
        var log = new ListLog();
        var writer = new PromTextWriter("vmprobe", log);
        MetricSet Cycle(int domainsNamedVm1)
        {
            var set = new MetricSet();
            var family = set.Family("domain_threads", MetricType.Gauge, "h", "domain", "uuid");
            for (var i = 0; i < domainsNamedVm1; i++)
            {
                family.Add(i, "vm1", string.Empty); // the /proc scan of QEMU without -uuid
            }

            return set;
        }

        for (var cycle = 0; cycle < 10; cycle++)
        {
            writer.Render(Cycle(2), out _);
        }

        Assert.Single(log.Lines);
        writer.Render(Cycle(3), out _); // changed: said again
        writer.Render(Cycle(3), out _);
        Assert.Equal(2, log.Lines.Count(l => l.Level == LogLevel.Warning));
        writer.Render(Cycle(1), out _); // resolved: one info
        writer.Render(Cycle(1), out _);
        Assert.Equal(3, log.Lines.Count);
        Assert.Equal(LogLevel.Info, log.Lines[^1].Level);
    }

    [Fact]
    public void FamiliesWhoseSanitizedNamesClashAreDropped()
    {
        var set = new MetricSet();
        set.Family("vm-up", MetricType.Gauge, "first").Add(1);
        set.Family("vm_up", MetricType.Gauge, "second").Add(2);
        set.Family("pair", MetricType.Gauge, "labels clash", "a-b", "a_b").Add(3, "x", "y");

        var text = Render(set, out var result);

        Assert.Equal(new PromWriteResult(1, 1, 0, 2), result);
        Assert.Equal("# HELP vmprobe_vm_up first\n# TYPE vmprobe_vm_up gauge\nvmprobe_vm_up 1\n", text);
    }

    [Fact]
    public void EmptyFamiliesAreOmittedAndEmptySetGivesEmptyOutput()
    {
        var set = new MetricSet();
        set.Family("nothing", MetricType.Gauge, "no samples", "x");

        Assert.Equal(string.Empty, Render(set));

        set.Family("something", MetricType.Gauge, "h").Add(5);
        var text = Render(set);
        Assert.DoesNotContain("nothing", text, StringComparison.Ordinal);
        Assert.EndsWith("vmprobe_something 5\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void FamiliesInDeclarationOrderWithSamplesTogether()
    {
        var set = new MetricSet();
        var a = set.Family("a", MetricType.Gauge, "h", "i");
        var b = set.Family("b", MetricType.Gauge, "h", "i");
        for (var i = 0; i < 5; i++)
        {
            b.Add(i, i.ToString(CultureInfo.InvariantCulture));
            a.Add(i, i.ToString(CultureInfo.InvariantCulture));
        }

        var names = Render(set).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.StartsWith('#')).Select(l => l[..l.IndexOf('{')]).ToList();

        Assert.Equal(Enumerable.Repeat("vmprobe_a", 5).Concat(Enumerable.Repeat("vmprobe_b", 5)), names);
    }

    [Fact]
    public void OutputEndsWithNewlineAndHasNoTimestamps()
    {
        var set = SampleMetrics.Realistic(domains: 3, vcpus: 2);
        var text = Render(set);

        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        Assert.All(text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')),
            l => Assert.Equal(2, l[(l.LastIndexOf('}') + 1)..].Split(' ').Length)); // "<name-or-labels> <value>", no third field
    }

    [Theory]
    [InlineData("node")]
    [InlineData("go")]
    [InlineData("process")]
    [InlineData("node_extra")]
    public void PrefixClashingWithNodeExporterIsRejected(string prefix)
    {
        var e = Assert.Throws<VmProbeException>(() => new PromTextWriter(prefix));

        Assert.Equal("prometheus_prefix,reserved", e.ErrorId);
        Assert.Equal(ProbeErrorKind.InvalidArgument, e.Kind);
        Assert.Contains(prefix, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StreamAndBufferWriterGiveTheSameBytesAndBufferIsReused()
    {
        var set = SampleMetrics.Realistic(domains: 20, vcpus: 4);
        var writer = new PromTextWriter();

        var first = writer.Render(set, out var r1).ToArray();
        var second = writer.Render(set, out var r2).ToArray();
        using var stream = new MemoryStream();
        writer.Write(set, stream);
        var external = new ArrayBufferWriter<byte>();
        writer.Write(set, external);

        Assert.Equal(r1, r2);
        Assert.Equal(first, second);
        Assert.Equal(first, stream.ToArray());
        Assert.Equal(first, external.WrittenSpan.ToArray());
    }

    [Fact]
    public void TensOfThousandsOfSeriesAllWrittenAndParseable()
    {
        var set = SampleMetrics.Realistic(domains: 1500, vcpus: 8);
        var expected = set.Families.Sum(f => f.Samples.Count);

        var text = Render(set, out var result);
        var parsed = ExpositionText.Parse(text);

        Assert.True(expected > 20_000, $"only {expected} series");
        Assert.Equal(expected, result.Series);
        Assert.Equal(expected, parsed.Count);
        Assert.Equal(expected, parsed.Select(s => s.Key).Distinct().Count());
    }
}
