using VmProbe.Tests.Infrastructure;
using VmProbe.Config;
using VmProbe.Native;
using VmProbe.Perf;
using VmProbe.Prometheus;
using Xunit;
using static VmProbe.Tests.Perf.PerfTestSupport;

namespace VmProbe.Tests.Perf;

/// <summary>The perf source on real counters: this test process plays the QEMU process, with worker threads named like vCPU threads.</summary>
[Collection(ProcessWideCollection.Name)]
public class PerfMetricsSourceTests
{
    private static readonly Guid VmUuid = Guid.Parse("6f1c2d3e-0000-4000-8000-00000000a001");

    [SkippableFact]
    public void ThreadModeCountsDomainVcpusAndHostAndReportsAHardwareEventOnce()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        using var vcpus = new FakeVcpus(2);
        var log = new RecordingLog();
        var config = Config(PerfAttribution.Thread, "task-clock", "context-switches", "instructions");
        var domain = vcpus.Domain("web-01", VmUuid);
        using var source = new PerfMetricsSource(config, log);

        source.Prepare(Context(domain));
        vcpus.Workers[0].Do(() => WorkerThread.SpinCpu(TimeSpan.FromMilliseconds(60)));
        var first = Collect(source, domain);
        vcpus.Workers[0].Do(() => WorkerThread.SpinCpu(TimeSpan.FromMilliseconds(60)));
        vcpus.Workers[1].Do(() => Thread.Sleep(5));
        var second = Collect(source, domain);

        var uuid = VmUuid.ToString("D");
        var taskClock1 = Value(first, "domain_perf_events_total", "web-01", uuid, "task_clock");
        var taskClock2 = Value(second, "domain_perf_events_total", "web-01", uuid, "task_clock");
        Assert.True(taskClock1 >= 50_000_000, $"first cycle domain task_clock {taskClock1} ns after a 60 ms spin");
        Assert.True(taskClock2 - taskClock1 >= 50_000_000, $"domain task_clock {taskClock1} -> {taskClock2}");

        // Per-vCPU: the spinning vCPU 0 has at least its spin, vCPU 1 its context switches; the VM total covers both.
        var vcpu0 = Value(second, "domain_vcpu_perf_events_total", "web-01", uuid, "0", "task_clock");
        var vcpu1 = Value(second, "domain_vcpu_perf_events_total", "web-01", uuid, "1", "task_clock");
        Assert.True(vcpu0 >= 100_000_000, $"vcpu 0 task_clock {vcpu0}");
        Assert.True(vcpu0 > vcpu1, $"vcpu 0 {vcpu0} vs idle vcpu 1 {vcpu1}");
        Assert.True(taskClock2 >= vcpu0 + vcpu1);
        Assert.True(Value(second, "domain_vcpu_perf_events_total", "web-01", uuid, "1", "context_switches") >= 1);
        Assert.Equal(1.0, Value(second, "domain_perf_scaling_ratio", "web-01", uuid, "task_clock"), 2);

        // Host, summed over CPUs.
        Assert.True(Value(second, "host_perf_events_total", "task_clock") >= taskClock2 - taskClock1);
        Assert.Equal(1.0, Value(second, "host_perf_scaling_ratio", "task_clock"), 2);

        // instructions: whatever this machine says when asked directly, the source says the same, and never stops the others.
        bool instructionsWork;
        using (var direct = PerfCounterSet.Open(PerfTarget.Thread(GetTid()), new[] { PerfEventCatalog.Parse("instructions") }))
        {
            instructionsWork = direct.Status[0].Supported;
        }

        Assert.Equal(instructionsWork ? 1 : 0, Value(second, "probe_event_supported", "instructions"));
        Assert.Equal(1, Value(second, "probe_event_supported", "task_clock"));
        Assert.Equal(1, Value(second, "probe_event_supported", "context_switches"));
        var warnings = log.Lines.Where(l => l.Level == LogLevel.Warning && l.Message.Contains("'instructions'")).ToList();
        if (instructionsWork)
        {
            Assert.Empty(warnings);
        }
        else
        {
            Assert.Single(warnings);
            Assert.Contains("perf_event_open,E", warnings[0].Message);
            Assert.DoesNotContain(Samples(second, "domain_perf_events_total"), s => s.LabelValues[2] == "instructions");
        }

        Assert.True(Value(second, "probe_perf_open_fds") >= 2 * CpuList.ReadOnline().Length);
    }

    [SkippableFact]
    public void PerCpuHostSeriesCarryACpuLabelAndSumToTheTotal()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        var cpus = CpuList.ReadOnline();
        var config = new ProbeConfig { Events = new[] { TaskClock }, PerCpu = true };
        using var source = new PerfMetricsSource(config, new RecordingLog());
        source.Prepare(Context());
        WorkerThread.Spin(TimeSpan.FromMilliseconds(20));
        var metrics = Collect(source);
        Assert.True(metrics.TryGet("host_perf_events_total", out var family));
        Assert.Equal(new[] { "cpu", "event" }, family.LabelNames);
        Assert.Equal(cpus.Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(),
            family.Samples.Select(s => s.LabelValues[0]).ToArray());
        Assert.True(family.Samples.Sum(s => s.Value) > 10_000_000);
    }

    [SkippableFact]
    public void TracepointByNameCountsAndAMissingTracepointIsReportedOnceAsUnsupported()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        string? tracefs = null;
        try
        {
            tracefs = TracepointResolver.EnsureTracefs();
        }
        catch (TracepointException ex)
        {
            Skip.If(true, "tracefs is not available: " + ex.Message);
        }

        Skip.IfNot(File.Exists(Path.Combine(tracefs!, "events/sched/sched_switch/id")), "no sched:sched_switch tracepoint in " + tracefs);
        using var vcpus = new FakeVcpus(1);
        var log = new RecordingLog();
        var config = Config(PerfAttribution.Thread, "sched:sched_switch", "sched:vmprobe_no_such_tracepoint");
        var domain = vcpus.Domain("tp-vm", VmUuid);
        using var source = new PerfMetricsSource(config, log);
        source.Prepare(Context(domain));
        vcpus.Workers[0].Do(() =>
        {
            for (var i = 0; i < 20; i++)
            {
                Thread.Sleep(1);
            }
        });
        Collect(source, domain);
        var metrics = Collect(source, domain);

        Assert.True(Value(metrics, "domain_vcpu_perf_events_total", "tp-vm", VmUuid.ToString("D"), "0", "sched:sched_switch") >= 20);
        Assert.Equal(1, Value(metrics, "probe_event_supported", "sched:sched_switch"));
        Assert.Equal(0, Value(metrics, "probe_event_supported", "sched:vmprobe_no_such_tracepoint"));
        var warning = Assert.Single(log.Lines, l => l.Message.Contains("vmprobe_no_such_tracepoint"));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("not found", warning.Message);
    }

    [SkippableFact]
    public void AVcpuThreadExitingBetweenCyclesNeverMakesTheDomainTotalGoBackwards()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        using var vcpus = new FakeVcpus(2);
        var domain = vcpus.Domain("exits", VmUuid);
        var uuid = VmUuid.ToString("D");
        using var source = new PerfMetricsSource(Config(PerfAttribution.Thread, "task-clock"), new RecordingLog());
        source.Prepare(Context(domain));
        vcpus.Workers[1].Do(() => WorkerThread.SpinCpu(TimeSpan.FromMilliseconds(80)));
        var before = Collect(source, domain);
        var totalBefore = Value(before, "domain_perf_events_total", "exits", uuid, "task_clock");
        var leaving = Value(before, "domain_vcpu_perf_events_total", "exits", uuid, "1", "task_clock");
        Assert.True(leaving >= 80_000_000, $"vcpu 1 task_clock {leaving}");

        vcpus.Workers[1].Exit();
        var after = Collect(source, domain);
        var afterExit = Collect(source, domain);

        Assert.True(Value(after, "domain_perf_events_total", "exits", uuid, "task_clock") >= totalBefore);
        Assert.True(Value(afterExit, "domain_perf_events_total", "exits", uuid, "task_clock") >= totalBefore);
        Assert.DoesNotContain(Samples(afterExit, "domain_vcpu_perf_events_total"), s => s.LabelValues[2] == "1");
        Assert.Contains(Samples(afterExit, "domain_vcpu_perf_events_total"), s => s.LabelValues[2] == "0");
    }

    [SkippableFact]
    public void DomainsAdmittedInOneCycleAreJudgedAgainstTheThreadsQueuedBeforeThem()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        var limit = new PerfFdBudget().Limit;
        Skip.If(limit > int.MaxValue, $"RLIMIT_NOFILE {limit} is too large to leave room for exactly one domain");
        // Two single-threaded processes (this one's thread count moves with the tests running beside it). Room for the
        // host and one of them, not both: the second is refused whole. Its thread opens with the first's in one batch
        // after both were admitted, so the first's must count against it when it is admitted.
        using var a = System.Diagnostics.Process.Start("sleep", "60");
        using var b = System.Diagnostics.Process.Start("sleep", "60");
        try
        {
            var room = CpuList.ReadOnline().Length + 1;
            var budget = new PerfFdBudget((int)((long)limit - PerfFdBudget.OpenPerfFds - PerfFdBudget.KeptProcfsFds - room));
            var first = new VmDomain { Name = "first", Uuid = VmUuid, Pid = a.Id, Vcpus = new[] { new VmVcpu(0, a.Id) } };
            var second = new VmDomain { Name = "second", Uuid = Guid.Parse("6f1c2d3e-0000-4000-8000-00000000a002"), Pid = b.Id, Vcpus = new[] { new VmVcpu(0, b.Id) } };
            var log = new RecordingLog();
            using var source = new PerfMetricsSource(Config(PerfAttribution.Thread, "task-clock"), log, budget);
            source.Prepare(Context(first, second));

            Assert.Equal(1, source.DomainCount);
            var metrics = Collect(source, first, second);
            Assert.Equal(new[] { "first" }, Samples(metrics, "domain_perf_events_total").Select(s => s.LabelValues[0]));
            Assert.Contains(log.Lines, l => l.Level == LogLevel.Error && l.Message.Contains("'second'", StringComparison.Ordinal));
        }
        finally
        {
            a.Kill();
            b.Kill();
        }
    }

    [SkippableFact]
    public void ManyDomainsCloseInPartsSideBySideAndEveryFdIsReleased()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        // 40 single-threaded processes: enough domains for the closing to be split in parts (16 or more per part).
        var sleepers = Enumerable.Range(0, 40).Select(_ => System.Diagnostics.Process.Start("sleep", "60")).ToList();
        try
        {
            var perfBaseline = PerfFdBudget.OpenPerfFds;
            var domains = sleepers.Select((p, i) => new VmDomain
            {
                Name = $"sleeper-{i}", Uuid = Guid.Parse($"6f1c2d3e-0000-4000-8000-{i + 1:D12}"), Pid = p.Id, Vcpus = new[] { new VmVcpu(0, p.Id) },
            }).ToArray();
            var source = new PerfMetricsSource(Config(PerfAttribution.Thread, "task-clock", "context-switches"), new RecordingLog());
            source.Prepare(Context(domains));
            Assert.Equal(40, source.DomainCount);
            Assert.True(PerfFdBudget.OpenPerfFds - perfBaseline >= 40 * 2, $"{PerfFdBudget.OpenPerfFds - perfBaseline} perf fds for 40 domains x 2 events");

            source.Dispose();
            Assert.Equal(perfBaseline, PerfFdBudget.OpenPerfFds);
        }
        finally
        {
            sleepers.ForEach(p => p.Kill());
            sleepers.ForEach(p => p.Dispose());
        }
    }

    [SkippableFact]
    public void NewThreadsArePickedUpAtTheNextCycle()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        using var vcpus = new FakeVcpus(1);
        var domain = vcpus.Domain("grows", VmUuid);
        using var source = new PerfMetricsSource(Config(PerfAttribution.Thread, "task-clock"), new RecordingLog());
        source.Prepare(Context(domain));
        Collect(source, domain);
        using var late = new WorkerThread();
        var withLate = vcpus.Domain("grows", VmUuid, extra: new VmVcpu(7, late.Tid));
        Collect(source, withLate); // lists /proc/self/task: the late thread is opened now
        late.Do(() => WorkerThread.SpinCpu(TimeSpan.FromMilliseconds(50)));
        var metrics = Collect(source, withLate);
        Assert.True(Value(metrics, "domain_vcpu_perf_events_total", "grows", VmUuid.ToString("D"), "7", "task_clock") >= 50_000_000);
    }

    [SkippableFact]
    public void ADomainThatIsNoLongerListedLosesItsSeriesAndItsFds()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var perfBaseline = PerfFdBudget.OpenPerfFds;
        var fdBaseline = Infrastructure.Requirements.OpenPerfEventFdCount();
        using (var vcpus = new FakeVcpus(2))
        {
            var stays = vcpus.Domain("stays", VmUuid);
            var leaves = vcpus.Domain("leaves", Guid.Parse("6f1c2d3e-0000-4000-8000-00000000a002"));
            var source = new PerfMetricsSource(Config(PerfAttribution.Thread, "task-clock", "context-switches"), new RecordingLog());
            try
            {
                source.Prepare(Context(stays, leaves));
                var both = Collect(source, stays, leaves);
                Assert.Contains(Samples(both, "domain_perf_events_total"), s => s.LabelValues[0] == "leaves");
                Assert.Equal(2, source.DomainCount);
                var fdsWithBoth = PerfFdBudget.OpenPerfFds;

                var one = Collect(source, stays);
                Assert.Equal(1, source.DomainCount);
                Assert.DoesNotContain(Samples(one, "domain_perf_events_total"), s => s.LabelValues[0] == "leaves");
                Assert.DoesNotContain(Samples(one, "domain_vcpu_perf_events_total"), s => s.LabelValues[0] == "leaves");
                Assert.Contains(Samples(one, "domain_perf_events_total"), s => s.LabelValues[0] == "stays");

                // Both domains are the same process: the one that left held as many fds as the one that stays.
                var heldByOne = fdsWithBoth - PerfFdBudget.OpenPerfFds;
                Assert.True(heldByOne >= 2 * 3, $"closing a domain of >= 3 threads x 2 events released {heldByOne} fds");
            }
            finally
            {
                source.Dispose();
            }

            Assert.Equal(perfBaseline, PerfFdBudget.OpenPerfFds);
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.Equal(fdBaseline, Infrastructure.Requirements.OpenPerfEventFdCount());
    }

    [SkippableFact]
    public void ADomainOverTheFdBudgetIsRefusedWithTheNumbersWhileTheHostKeepsCounting()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        var limit = new PerfFdBudget().Limit;
        var cpus = CpuList.ReadOnline().Length;
        Skip.If(limit > int.MaxValue, $"RLIMIT_NOFILE {limit} is too large to leave room for exactly the host");

        // Keep free exactly what the host counters need: any domain is then over budget.
        // Kept procfs files (other test classes' procfs sources) count against the same limit.
        var reserved = (int)((long)limit - PerfFdBudget.OpenPerfFds - PerfFdBudget.KeptProcfsFds - cpus);
        var budget = new PerfFdBudget(reserved);
        using var vcpus = new FakeVcpus(1);
        var domain = vcpus.Domain("too-big", VmUuid);
        var log = new RecordingLog();
        using var source = new PerfMetricsSource(Config(PerfAttribution.Thread, "task-clock"), log, budget);
        source.Prepare(Context(domain));
        Collect(source, domain);
        var metrics = Collect(source, domain);

        Assert.Equal(0, source.DomainCount);
        Assert.Empty(Samples(metrics, "domain_perf_events_total"));
        Assert.Single(Samples(metrics, "host_perf_events_total"));
        var error = Assert.Single(log.Lines, l => l.Level == LogLevel.Error);
        Assert.Contains("'too-big'", error.Message);
        Assert.Contains("1 events x ", error.Message);
        Assert.Contains($"RLIMIT_NOFILE is {limit}", error.Message);
    }

    [SkippableFact]
    public void CgroupModeCountsTheDomainsCgroupWithoutVcpuSeries()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        using var cgroup = BusyCgroupV2.Create("perfsource-test");
        var dir = cgroup.Directory;
        var child = cgroup.ChildPid;
        var domain = new VmDomain { Name = "cg-vm", Uuid = VmUuid, Pid = child, CgroupPath = dir, PerfCgroupPath = dir, Vcpus = new[] { new VmVcpu(0, child) } };
        using var source = new PerfMetricsSource(Config(PerfAttribution.Cgroup, "task-clock"), new RecordingLog());
        source.Prepare(Context(domain));
        var first = Collect(source, domain);
        Thread.Sleep(200);
        var second = Collect(source, domain);
        var uuid = VmUuid.ToString("D");
        var before = Value(first, "domain_perf_events_total", "cg-vm", uuid, "task_clock");
        var after = Value(second, "domain_perf_events_total", "cg-vm", uuid, "task_clock");
        Assert.True(after > before + 10_000_000, $"cgroup task_clock {before} -> {after}");
        Assert.False(second.TryGet("domain_vcpu_perf_events_total", out _));
    }

    internal static ProbeConfig Config(PerfAttribution attribution, params string[] events) =>
        new() { Attribution = attribution, Events = events.Select(e => PerfEventCatalog.Parse(e)).ToArray() };

    internal static CycleContext Context(params VmDomain[] domains) => new(domains, DateTimeOffset.UtcNow, NullProbeLog.Instance, CancellationToken.None);

    internal static MetricSet Collect(PerfMetricsSource source, params VmDomain[] domains)
    {
        var metrics = new MetricSet();
        source.Collect(Context(domains), metrics);
        return metrics;
    }

    internal static IReadOnlyList<MetricSample> Samples(MetricSet metrics, string family) =>
        metrics.TryGet(family, out var f) ? f.Samples : Array.Empty<MetricSample>();

    internal static double Value(MetricSet metrics, string family, params string[] labels)
    {
        Assert.True(metrics.TryGet(family, out var f), $"no family {family}");
        var matches = f.Samples.Where(s => s.LabelValues.SequenceEqual(labels)).ToList();
        Assert.True(matches.Count == 1, $"{family}{{{string.Join(",", labels)}}}: {matches.Count} samples; have {string.Join(" ", f.Samples.Select(s => "{" + string.Join(",", s.LabelValues) + "}"))}");
        return matches[0].Value;
    }
}

/// <summary>Worker threads of this process named like QEMU's vCPU threads (<c>CPU N/KVM</c>), as a domain's vCPUs.</summary>
internal sealed class FakeVcpus : IDisposable
{
    public FakeVcpus(int count)
    {
        Infrastructure.ProcessWidePhase.Require("FakeVcpus (threads of this process named CPU n/KVM)");
        Workers = Enumerable.Range(0, count).Select(_ => new WorkerThread()).ToArray();
        for (var i = 0; i < count; i++)
        {
            File.WriteAllText($"/proc/self/task/{Workers[i].Tid}/comm", $"CPU {i}/KVM");
        }
    }

    public WorkerThread[] Workers { get; }

    public VmDomain Domain(string name, Guid uuid, VmVcpu? extra = null) => new()
    {
        Name = name,
        Uuid = uuid,
        Pid = Environment.ProcessId,
        State = VmDomainState.Running,
        Vcpus = Workers.Select((w, i) => new VmVcpu(i, w.Tid)).Concat(extra is null ? Array.Empty<VmVcpu>() : new[] { extra }).ToArray(),
    };

    public void Dispose()
    {
        foreach (var worker in Workers)
        {
            worker.Dispose();
        }
    }
}

internal sealed class RecordingLog : IProbeLog
{
    private readonly object gate = new();

    public List<(LogLevel Level, string Message)> Lines { get; } = new();

    public bool IsEnabled(LogLevel level) => true;

    public void Write(LogLevel level, string message)
    {
        lock (gate)
        {
            Lines.Add((level, message));
        }
    }
}
