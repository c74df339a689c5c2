using VmProbe.Tests.Infrastructure;
using VmProbe.Config;
using VmProbe.Perf;
using Xunit;
using static VmProbe.Tests.Perf.PerfMetricsSourceTests;
using static VmProbe.Tests.Perf.PerfTestSupport;

namespace VmProbe.Tests.Perf;

/// <summary>
/// The perf source's first batch of thread opens (a new VM's threads, every VM's in the first cycle): from each thread's
/// CPU, on several threads where the log allows it, with the CPUs the discovery's inspection left as hints.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public class PerfFirstBatchTests
{
    private static readonly Guid VmUuid = Guid.Parse("6f1c2d3e-0000-4000-8000-00000000a002");

    [Fact]
    public void ABigBatchOfOpensIsSharedByThreadsOnlyWhereTheLogTakesLinesFromAnyThread()
    {
        // A failing open logs from the thread that made it: a cmdlet's log writes on the pipeline thread alone.
        using var cmdlet = new PerfMetricsSource(PerfMetricsSourceTests.Config(PerfAttribution.Thread, "task-clock"), new RecordingLog());
        using var runner = new PerfMetricsSource(PerfMetricsSourceTests.Config(PerfAttribution.Thread, "task-clock"), new VmProbe.Tests.Probe.ConcurrentLog());
        Assert.Equal(1, cmdlet.OpenWorkers);
        Assert.Equal(OnTargetCpu.MaxWorkers, runner.OpenWorkers);
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void AFirstCycleOfManyThreadsOpensEveryOneFromItsCpuAndLeavesTheCallersAffinityAlone(bool concurrentLog)
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        var count = OnTargetCpu.MinimumBatch + 8; // with this process' own threads, one batch pinned per CPU
        using var vcpus = new FakeVcpus(count);
        var domain = vcpus.Domain("many", VmUuid);
        IProbeLog log = concurrentLog ? new VmProbe.Tests.Probe.ConcurrentLog() : new RecordingLog(); // several threads open, or one
        using var source = new PerfMetricsSource(PerfMetricsSourceTests.Config(PerfAttribution.Thread, "task-clock", "context-switches"), log);

        var (before, after) = ThreadCpus.OnOwnThread(() =>
        {
            var allowed = ThreadCpus.Allowed();
            source.Prepare(Context(domain));
            return (allowed, ThreadCpus.Allowed());
        });
        Assert.Equal(before, after);

        foreach (var worker in vcpus.Workers)
        {
            worker.Do(() => Thread.Sleep(1));
        }

        var metrics = Collect(source, domain);
        var uuid = VmUuid.ToString("D");
        for (var i = 0; i < count; i++)
        {
            Assert.True(Value(metrics, "domain_vcpu_perf_events_total", "many", uuid, i.ToString(), "context_switches") >= 1, $"vCPU {i} counted no context switch");
        }

        Assert.True(source.OpenFdCount >= 2 * count, $"{source.OpenFdCount} fds for {count} vCPU threads x 2 events");
    }

    [SkippableFact]
    public void TheFirstBatchTakesTheCpusTheDiscoveryLeftForItsThreads_AndReadsTheOthers()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        using var vcpus = new FakeVcpus(OnTargetCpu.MinimumBatch + 8);
        var domain = vcpus.Domain("hinted", VmUuid);
        using var source = new PerfMetricsSource(PerfMetricsSourceTests.Config(PerfAttribution.Thread, "task-clock"), new RecordingLog());
        var shared = new CycleState();
        shared.BeginCycle();
        var hints = shared.Get<VmProbe.Procfs.ThreadCpuHints>();
        foreach (var worker in vcpus.Workers)
        {
            hints.Record(worker.Tid, -1); // as the inspection of a new VM leaves them
        }

        ThreadCpus.OnOwnThread(() =>
        {
            source.Prepare(new CycleContext(new[] { domain }, DateTimeOffset.UtcNow, NullProbeLog.Instance, CancellationToken.None) { Shared = shared });
            return 0;
        });

        Assert.Equal(vcpus.Workers.Length, hints.Hits); // one lookup per hinted thread; this process's others read their stat
        Assert.True(source.OpenFdCount >= vcpus.Workers.Length, $"{source.OpenFdCount} fds for {vcpus.Workers.Length} vCPU threads");
    }
}
