using VmProbe.Composition;
using VmProbe.Perf;
using VmProbe.Tests.Infrastructure;
using Xunit;
using static VmProbe.Tests.Perf.PerfMetricsSourceTests;
using static VmProbe.Tests.Perf.PerfTestSupport;

namespace VmProbe.Tests.Perf;

/// <summary>
/// Issue "Hostile hosts" (logs proportional to what changes): domains refused for the fd budget, on real perf events in a
/// real cycle. The budget is forced small by holding perf fds of our own and reserving all the rest of the limit.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public sealed class PerfFdBudgetRefusalTests
{
    private const string Summary = "domain(s) are not counted, their perf fds do not fit the fd budget";

    [SkippableFact]
    public void RefusedDomainsAreOneLinePerChangeAndCountedPerDomainPerCycle()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        var limit = new PerfFdBudget().Limit;
        Skip.If(limit > int.MaxValue, $"RLIMIT_NOFILE {limit} is too large to fill the budget exactly");
        using var vcpus = new FakeVcpus(1);

        // Each domain is this process: it needs one fd per thread. Hold enough for two domains, then leave no room.
        var threads = Directory.GetDirectories("/proc/self/task").Length;
        var hogs = new List<PerfCounterSet>();
        var log = new RecordingLog();
        try
        {
            for (var i = 0; i < 2 * threads + 64; i++)
            {
                hogs.Add(PerfCounterSet.Open(PerfTarget.Thread(GetTid()), new[] { TaskClock }));
            }

            var reserved = (int)((long)limit - PerfFdBudget.OpenPerfFds - PerfFdBudget.KeptProcfsFds);
            var discovery = new VmProbe.Tests.Probe.ListDiscovery();
            discovery.Domains.AddRange(new[] { "r1", "r2", "r3" }.Select((name, i) => vcpus.Domain(name, Guid.Parse($"6f1c2d3e-0000-4000-8000-00000000b00{i}"))));
            using var source = new PerfMetricsSource(PerfMetricsSourceTests.Config(VmProbe.Config.PerfAttribution.Thread, "task-clock"), log, new PerfFdBudget(reserved), countHost: false);
            var cycle = new ProbeCycle(discovery, new IMetricSource[] { source }, log, 1000);

            // 4 cycles, 3 domains refused: one line, 12 errors, in the exported counter too.
            MetricSet metrics = null!;
            for (var c = 0; c < 4; c++)
            {
                metrics = cycle.Collect(CancellationToken.None);
            }

            var first = Assert.Single(SummaryLines(log));
            Assert.Equal(LogLevel.Error, first.Level);
            Assert.Contains("perf: 3 " + Summary + ": 'r1', 'r2', 'r3' (first: 'r1': 1 events x ", first.Message);
            Assert.Contains($"RLIMIT_NOFILE is {limit}, less {reserved} kept for other files", first.Message);
            Assert.Contains("ulimit -n", first.Message);
            Assert.Equal(12, cycle.ErrorCount("perf"));
            Assert.Equal(12, Value(metrics, "probe_errors_total", "perf"));
            Assert.Equal(0, source.DomainCount);

            // The set changes (r3 leaves): one more line; the counter goes on per refused domain and cycle.
            discovery.Domains.RemoveAt(2);
            cycle.Collect(CancellationToken.None);
            cycle.Collect(CancellationToken.None);
            Assert.Equal(2, SummaryLines(log).Count);
            Assert.Contains("perf: 2 " + Summary + ": 'r1', 'r2' (", SummaryLines(log)[1].Message);
            Assert.Equal(16, cycle.ErrorCount("perf"));

            // Room again: both are counted, one line says so, nothing more is counted or logged after.
            foreach (var hog in hogs)
            {
                hog.Dispose();
            }

            hogs.Clear();
            metrics = cycle.Collect(CancellationToken.None);
            Assert.Equal(2, source.DomainCount);
            Assert.Equal(2, Samples(metrics, "domain_perf_events_total").Count);
            var served = Assert.Single(log.Lines, l => l.Message.Contains("no domain is refused", StringComparison.Ordinal));
            Assert.Equal(LogLevel.Info, served.Level);
            var lines = log.Lines.Count(l => l.Level >= LogLevel.Info);
            cycle.Collect(CancellationToken.None);
            Assert.Equal(16, cycle.ErrorCount("perf"));
            Assert.Equal(lines, log.Lines.Count(l => l.Level >= LogLevel.Info));

            // The cycle counted the refusals without a "source perf failed" line of its own: the summaries say it all.
            Assert.DoesNotContain(log.Lines, l => l.Message.Contains("source perf", StringComparison.Ordinal));
            Assert.Equal(3, log.Lines.Count(l => l.Level >= LogLevel.Info && l.Message.StartsWith("perf:", StringComparison.Ordinal)));
        }
        finally
        {
            foreach (var hog in hogs)
            {
                hog.Dispose();
            }
        }
    }

    private static List<(LogLevel Level, string Message)> SummaryLines(RecordingLog log) =>
        log.Lines.Where(l => l.Message.Contains(Summary, StringComparison.Ordinal)).ToList();
}
