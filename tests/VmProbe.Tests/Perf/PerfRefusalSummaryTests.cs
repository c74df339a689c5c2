using VmProbe.Composition;
using VmProbe.Config;
using VmProbe.Perf;
using VmProbe.Tests.Infrastructure;
using VmProbe.Tests.Probe;
using Xunit;
using static VmProbe.Tests.Perf.PerfMetricsSourceTests;
using static VmProbe.Tests.Perf.PerfTestSupport;

namespace VmProbe.Tests.Perf;

/// <summary>
/// Issue "Hostile hosts" (logs proportional to what changes), beyond whole domains over the fd budget: domains whose cgroup
/// does not open, counted domains whose new threads do not fit, and host counters that do not fit. Each is one log line per
/// change of its set and one when it clears, and counted in probe_errors_total{source="perf"} per target and cycle. Real
/// perf events in a real cycle; the budget is forced small by holding perf fds of our own and reserving the rest.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public sealed class PerfRefusalSummaryTests
{
    [SkippableFact]
    public void DomainsWhoseCgroupDoesNotOpenAreOneLinePerChangeAndCounted()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        var notCgroup = Directory.CreateTempSubdirectory("vmprobe-test-notcg-").FullName; // a directory perf cannot count as a cgroup
        var missing = "/sys/fs/cgroup/vmprobe-test-missing-" + Guid.NewGuid().ToString("N");
        try
        {
            CgroupRefusals(missing, notCgroup);
        }
        finally
        {
            Directory.Delete(notCgroup);
        }
    }

    private static void CgroupRefusals(string missing, string notCgroup)
    {
        var discovery = new ListDiscovery();
        discovery.Domains.AddRange(new[] { missing, notCgroup, missing + "-2" }.Select((dir, i) => new VmDomain
        {
            Name = $"cg{i}", Uuid = Guid.Parse($"6f1c2d3e-0000-4000-8000-00000000c00{i}"), Pid = Environment.ProcessId,
            State = VmDomainState.Running, CgroupPath = dir, PerfCgroupPath = dir,
        }));
        var log = new RecordingLog();
        using var source = new PerfMetricsSource(PerfMetricsSourceTests.Config(PerfAttribution.Cgroup, "task-clock"), log, countHost: false);
        var cycle = new ProbeCycle(discovery, new IMetricSource[] { source }, log, 1000);

        MetricSet metrics = null!;
        for (var c = 0; c < 3; c++)
        {
            metrics = cycle.Collect(CancellationToken.None);
        }

        const string Headline = "domain(s) are not counted, their cgroup cannot be counted";
        var first = Assert.Single(log.Lines, l => l.Message.Contains(Headline, StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, first.Level);
        Assert.Contains($"perf: 3 {Headline} (attribution: cgroup): 'cg0', 'cg1', 'cg2' (first: 'cg0': cgroup {missing}: ", first.Message);
        Assert.Contains("ENOENT", first.Message);
        Assert.Contains("attribution: thread", first.Message);
        Assert.Equal(9, cycle.ErrorCount("perf"));
        Assert.Equal(9, Value(metrics, "probe_errors_total", "perf"));
        Assert.Equal(0, source.DomainCount);

        // One leaves: one more line naming the two left.
        discovery.Domains.RemoveAt(0);
        cycle.Collect(CancellationToken.None);
        cycle.Collect(CancellationToken.None);
        var lines = log.Lines.Where(l => l.Message.Contains(Headline, StringComparison.Ordinal)).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Contains($"perf: 2 {Headline} (attribution: cgroup): 'cg1', 'cg2' (first: 'cg1': cgroup {notCgroup}: ", lines[1].Message);
        Assert.Equal(13, cycle.ErrorCount("perf"));

        // None left: one Info line, then silence and no more errors.
        discovery.Domains.Clear();
        cycle.Collect(CancellationToken.None);
        var clear = Assert.Single(log.Lines, l => l.Message.Contains("every domain's cgroup can be counted again", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Info, clear.Level);
        var count = log.Lines.Count;
        cycle.Collect(CancellationToken.None);
        Assert.Equal(count, log.Lines.Count);
        Assert.Equal(13, cycle.ErrorCount("perf"));
        Assert.DoesNotContain(log.Lines, l => l.Message.Contains("source perf", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void NewThreadsOverTheBudgetAreOneLinePerChangeAndCountedPerDomain()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        var limit = new PerfFdBudget().Limit;
        Skip.If(limit > int.MaxValue, $"RLIMIT_NOFILE {limit} is too large to fill the budget exactly");
        using var vcpus = new FakeVcpus(1);
        var hogs = new List<PerfCounterSet>();
        var late = new List<WorkerThread>();
        try
        {
            // Room for both domains (each is this process: one fd per thread) and a little slack.
            var threads = Directory.GetDirectories("/proc/self/task").Length;
            var reserved = (int)((long)limit - PerfFdBudget.OpenPerfFds - PerfFdBudget.KeptProcfsFds - (2 * threads) - 64);
            var budget = new PerfFdBudget(reserved);
            var discovery = new ListDiscovery();
            discovery.Domains.AddRange(new[] { "t1", "t2" }.Select((name, i) => vcpus.Domain(name, Guid.Parse($"6f1c2d3e-0000-4000-8000-00000000d00{i}"))));
            var log = new RecordingLog();
            using var source = new PerfMetricsSource(PerfMetricsSourceTests.Config(PerfAttribution.Thread, "task-clock"), log, budget, countHost: false);
            var cycle = new ProbeCycle(discovery, new IMetricSource[] { source }, log, 1000);
            cycle.Collect(CancellationToken.None);
            Assert.Equal(2, source.DomainCount);
            Assert.Equal(0, cycle.ErrorCount("perf"));

            // Fill the budget, then start two threads: neither domain can count them (two, so one exiting thread's fd is not enough).
            for (var i = 0; i < 10_000 && budget.Fits(1); i++)
            {
                hogs.Add(PerfCounterSet.Open(PerfTarget.Thread(GetTid()), new[] { TaskClock }));
            }

            Assert.False(budget.Fits(1), "the budget could not be filled");
            late.Add(new WorkerThread());
            late.Add(new WorkerThread());
            MetricSet metrics = null!;
            for (var c = 0; c < 3; c++)
            {
                metrics = cycle.Collect(CancellationToken.None);
            }

            const string Headline = "counted domain(s) have new threads that are not counted, their perf fds do not fit the fd budget";
            var first = Assert.Single(log.Lines, l => l.Message.Contains(Headline, StringComparison.Ordinal));
            Assert.Equal(LogLevel.Error, first.Level);
            Assert.Contains($"perf: 2 {Headline}: 't1', 't2' (first: 't1': 1 perf events on thread ", first.Message);
            Assert.Contains($"RLIMIT_NOFILE is {limit}, less {reserved} kept for other files", first.Message);
            Assert.Contains("ulimit -n", first.Message);
            Assert.Equal(6, cycle.ErrorCount("perf"));
            Assert.Equal(6, Value(metrics, "probe_errors_total", "perf"));
            Assert.Equal(2, Samples(metrics, "domain_perf_events_total").Count); // still counted, without the new threads

            // Room again: the new threads are counted, one Info line, then nothing more logged or counted.
            DisposeAll(hogs);
            cycle.Collect(CancellationToken.None);
            var clear = Assert.Single(log.Lines, l => l.Message.Contains("new threads of every counted domain fit", StringComparison.Ordinal));
            Assert.Equal(LogLevel.Info, clear.Level);
            var count = log.Lines.Count(l => l.Level >= LogLevel.Info);
            cycle.Collect(CancellationToken.None);
            Assert.Equal(count, log.Lines.Count(l => l.Level >= LogLevel.Info));
            Assert.Equal(6, cycle.ErrorCount("perf"));
            Assert.DoesNotContain(log.Lines, l => l.Message.Contains("source perf", StringComparison.Ordinal));
        }
        finally
        {
            DisposeAll(hogs);
            late.ForEach(w => w.Dispose());
        }
    }

    [SkippableFact]
    public void HostCountersOverTheBudgetAreOneLineAndCountedEachCycle()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        var limit = new PerfFdBudget().Limit;
        Skip.If(limit > int.MaxValue, $"RLIMIT_NOFILE {limit} is too large to fill the budget exactly");
        var cpus = CpuList.ReadOnline().Length;
        var hogs = new List<PerfCounterSet>();
        try
        {
            // One fd short of the host's counters while the hogs are held.
            for (var i = 0; i < 8; i++)
            {
                hogs.Add(PerfCounterSet.Open(PerfTarget.Thread(GetTid()), new[] { TaskClock }));
            }

            var reserved = (int)((long)limit - PerfFdBudget.OpenPerfFds - PerfFdBudget.KeptProcfsFds - (cpus - 1));
            var log = new RecordingLog();
            using var source = new PerfMetricsSource(PerfMetricsSourceTests.Config(PerfAttribution.Thread, "task-clock"), log, new PerfFdBudget(reserved));
            var cycle = new ProbeCycle(new ListDiscovery(), new IMetricSource[] { source }, log, 1000);
            MetricSet metrics = null!;
            for (var c = 0; c < 3; c++)
            {
                metrics = cycle.Collect(CancellationToken.None);
            }

            var first = Assert.Single(log.Lines, l => l.Message.Contains("host counters are not opened", StringComparison.Ordinal));
            Assert.Equal(LogLevel.Error, first.Level);
            Assert.Contains($"(1 events x {cpus} CPUs need {cpus} fds)", first.Message);
            Assert.Contains($"RLIMIT_NOFILE is {limit}, less {reserved} kept for other files", first.Message);
            Assert.Equal(3, cycle.ErrorCount("perf"));
            Assert.Equal(3, Value(metrics, "probe_errors_total", "perf"));
            Assert.Empty(Samples(metrics, "host_perf_events_total"));

            // Room again: the host is counted, one Info line, nothing more counted after.
            DisposeAll(hogs);
            metrics = cycle.Collect(CancellationToken.None);
            Assert.Single(Samples(metrics, "host_perf_events_total"));
            var clear = Assert.Single(log.Lines, l => l.Message.Contains("host counters fit the open-file limit", StringComparison.Ordinal));
            Assert.Equal(LogLevel.Info, clear.Level);
            cycle.Collect(CancellationToken.None);
            Assert.Equal(3, cycle.ErrorCount("perf"));
            Assert.Equal(2, log.Lines.Count(l => l.Level >= LogLevel.Info && l.Message.StartsWith("perf:", StringComparison.Ordinal)));
        }
        finally
        {
            DisposeAll(hogs);
        }
    }

    private static void DisposeAll(List<PerfCounterSet> sets)
    {
        sets.ForEach(s => s.Dispose());
        sets.Clear();
    }
}
