using System.Text;
using VmProbe.Prometheus;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Prometheus;

/// <summary>Our textfile served by a real node_exporter: everything we write must come back, unchanged and without scrape error.</summary>
public class NodeExporterTests
{
    /// <summary>Asserts that node_exporter serves exactly the series and values of <paramref name="written"/> under our prefix.</summary>
    private static void AssertServedExactly(string written, NodeExporterScrape scrape, string prefix)
    {
        var expected = ExpositionText.Parse(written).ToDictionary(s => s.Key, s => s.Value);
        var served = scrape.WithPrefix(prefix);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), served.Select(s => s.Key).Order(StringComparer.Ordinal));
        Assert.All(served, s => Assert.Equal(expected[s.Key], s.Value));
    }

    [SkippableFact]
    public void ServesOurFileWithRightValuesAndNoScrapeError()
    {
        Skip.IfNot(NodeExporterHost.IsAvailable, NodeExporterHost.UnavailableReason);
        using var exporter = NodeExporterHost.Start();
        var writer = new PromTextWriter();
        var textFile = new TextFileWriter(Path.Combine(exporter.TextfileDirectory, "vmprobe.prom"));
        var set = SampleMetrics.Realistic(domains: 4, vcpus: 2);
        set.Family("probe_special", MetricType.Gauge, "Non-finite values.", "kind").Add(double.NaN, "nan");
        set.Family("probe_special", MetricType.Gauge, "Non-finite values.", "kind").Add(double.NegativeInfinity, "ninf");

        textFile.Write(set, writer);
        var scrape = exporter.Scrape();

        Assert.Equal(0, scrape.TextfileScrapeError);
        AssertServedExactly(File.ReadAllText(textFile.EndpointPath), scrape, "vmprobe_");
        Assert.Equal(1001.25, scrape.ValueOf("vmprobe_domain_cpu_seconds_total", ("domain", "odd \"vm\" \\ name\nline"), ("uuid", new Guid(1, 0, 0, new byte[8]).ToString())));
        Assert.Equal(3001, scrape.ValueOf("vmprobe_vcpu_context_switches_total", ("domain", "vm-3"), ("vcpu", "1")));
        Assert.True(double.IsNaN(scrape.ValueOf("vmprobe_probe_special", ("kind", "nan"))!.Value));
        var headers = ExpositionText.Headers(scrape.Body);
        Assert.Equal(("Time the vCPU thread waited on a run queue (schedstat).", "counter"), headers["vmprobe_vcpu_wait_seconds_total"]);
        Assert.True(exporter.ErrorLog.Count == 0, "node_exporter logged: " + string.Join("\n", exporter.ErrorLog));
    }

    [SkippableFact]
    public void NegativeControlSyntaxErrorMakesScrapeErrorOne()
    {
        Skip.IfNot(NodeExporterHost.IsAvailable, NodeExporterHost.UnavailableReason);
        using var exporter = NodeExporterHost.Start();
        File.WriteAllText(Path.Combine(exporter.TextfileDirectory, "broken.prom"), "# TYPE x gauge\nx{a=\"unterminated} 1\n");

        var scrape = exporter.Scrape();

        Assert.Equal(1, scrape.TextfileScrapeError);
        Assert.Empty(scrape.WithPrefix("x"));
    }

    [SkippableFact]
    public void NegativeControlDuplicateSeriesAreDroppedSilentlyByNodeExporter()
    {
        // Proves that the exact-served-set comparison used above can fail: node_exporter answers 200 and
        // scrape_error 0, yet it does not serve the family with a duplicated series.
        Skip.IfNot(NodeExporterHost.IsAvailable, NodeExporterHost.UnavailableReason);
        using var exporter = NodeExporterHost.Start();
        const string written = "# HELP dup_total h\n# TYPE dup_total counter\ndup_total{a=\"1\"} 1\ndup_total{a=\"1\"} 2\n";
        File.WriteAllText(Path.Combine(exporter.TextfileDirectory, "dup.prom"), written);

        var scrape = exporter.Scrape();

        Assert.Equal(0, scrape.TextfileScrapeError);
        Assert.ThrowsAny<Exception>(() => AssertServedExactly(written, scrape, "dup_"));
        Assert.Contains(exporter.WaitForErrorLog(), l => l.Contains("dup_total", StringComparison.Ordinal)); // and the log check can fail too
    }

    [SkippableFact]
    public void WriterNeverProducesWhatNodeExporterDropsSilently()
    {
        // Duplicated label sets, names that collide after sanitizing, a reserved-looking family name and tricky
        // label values: whatever the writer emits must be served in full, with no error logged by node_exporter.
        Skip.IfNot(NodeExporterHost.IsAvailable, NodeExporterHost.UnavailableReason);
        using var exporter = NodeExporterHost.Start();
        var set = new MetricSet();
        var wait = set.Family("vcpu_wait_seconds_total", MetricType.Counter, "Wait.", "domain", "vcpu");
        wait.Add(1, "vm1", "0");
        wait.Add(2, "vm1", "0");
        wait.Add(3, "vm\n1", "0");
        set.Family("vm-up", MetricType.Gauge, "Up, first.").Add(1);
        set.Family("vm_up", MetricType.Gauge, "Up, second with other HELP.").Add(0);
        set.Family("textfile_scrape_error", MetricType.Gauge, "Ours, not node_exporter's.").Add(7);
        set.Family("labels", MetricType.Gauge, "Clashing labels.", "a-b", "a_b").Add(1, "x", "y");
        var writer = new PromTextWriter();
        var textFile = new TextFileWriter(Path.Combine(exporter.TextfileDirectory, "vmprobe.prom"));

        var result = textFile.Write(set, writer);
        var scrape = exporter.Scrape();

        Assert.Equal(new PromWriteResult(Families: 3, Series: 4, DuplicateSeriesDropped: 1, ClashingFamiliesDropped: 2), result);
        Assert.Equal(0, scrape.TextfileScrapeError);
        AssertServedExactly(File.ReadAllText(textFile.EndpointPath), scrape, "vmprobe_");
        Assert.Equal(1, scrape.ValueOf("vmprobe_vcpu_wait_seconds_total", ("domain", "vm1"), ("vcpu", "0")));
        Assert.Equal(7, scrape.ValueOf("vmprobe_textfile_scrape_error"));
        Assert.Equal(0, scrape.ValueOf("node_textfile_scrape_error"));
        Assert.True(exporter.ErrorLog.Count == 0, "node_exporter logged: " + string.Join("\n", exporter.ErrorLog));
    }

    [SkippableFact]
    public void RewritesAreServedAndNoTempFileIsEverRead()
    {
        Skip.IfNot(NodeExporterHost.IsAvailable, NodeExporterHost.UnavailableReason);
        using var exporter = NodeExporterHost.Start();
        var writer = new PromTextWriter();
        var textFile = new TextFileWriter(Path.Combine(exporter.TextfileDirectory, "vmprobe.prom"));
        var set = new MetricSet();
        var counter = set.Family("cycles_total", MetricType.Counter, "Cycles.");

        for (var i = 0; i < 20; i++)
        {
            counter.Add(i);
            textFile.Write(set, writer);
            set = new MetricSet();
            counter = set.Family("cycles_total", MetricType.Counter, "Cycles.");
            var scrape = exporter.Scrape();
            Assert.Equal(0, scrape.TextfileScrapeError);
            Assert.Equal(i, scrape.ValueOf("vmprobe_cycles_total"));
            Assert.DoesNotContain(scrape.Series, s => s.Name == "node_textfile_mtime_seconds" && !s.Labels["file"].EndsWith("vmprobe.prom", StringComparison.Ordinal));
        }

        Assert.Equal(new[] { "vmprobe.prom" }, Directory.GetFiles(exporter.TextfileDirectory).Select(Path.GetFileName));
    }

    [SkippableFact]
    public void DisposeLeavesNoProcess()
    {
        Skip.IfNot(NodeExporterHost.IsAvailable, NodeExporterHost.UnavailableReason);
        int pid;
        string directory;
        using (var exporter = NodeExporterHost.Start())
        {
            pid = exporter.ProcessId;
            directory = exporter.TextfileDirectory;
            Assert.True(Directory.Exists($"/proc/{pid}"));
        }

        Assert.False(Directory.Exists($"/proc/{pid}"));
        Assert.False(Directory.Exists(directory));
    }
}
