using VmProbe.Tests.Infrastructure;
using VmProbe.Perf;
using Xunit;
using static VmProbe.Tests.Perf.PerfTestSupport;

namespace VmProbe.Tests.Perf;

[Collection(ProcessWideCollection.Name)]
public class PerfSystemTests
{
    [SkippableFact]
    public void HostSystemWideClocksSummedOverOnlineCpusGrow()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        var cpus = CpuList.ReadOnline();
        using var session = PerfSession.Open(new[] { TaskClock, CpuClock }, new[] { PerfTarget.Host });
        Assert.True(session.TryGet(PerfTarget.Host, out var host));
        Assert.Equal(cpus, host.Cpus);
        Assert.Equal(2 * cpus.Length, host.OpenFdCount);
        session.Read();
        var before = host.GetTotal(1).Raw;
        WorkerThread.Spin(TimeSpan.FromMilliseconds(50));
        Thread.Sleep(50);
        session.Read();
        var after = host.GetTotal(1);
        Assert.True(after.Raw > before, $"cpu_clock {before} -> {after} task {host.GetTotal(0)} status {string.Join(",", host.Status)} splits {host.GroupSplits} fds {host.OpenFdCount}");
        Assert.True(host.GetTotal(0).Raw > 0);
        ulong perCpuSum = 0;
        for (var slot = 0; slot < cpus.Length; slot++)
        {
            perCpuSum += host.GetPerCpu(1, slot).Raw;
        }

        Assert.Equal(after.Raw, perCpuSum);
        var readings = session.GetReadings().ToList();
        Assert.Equal(2, readings.Count);
        Assert.All(readings, r => Assert.Equal(PerfTarget.Host, r.Target));
    }

    [SkippableFact]
    public void CgroupV2DirectoryCountsTaskClockOfAProcessMovedIntoIt()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        using var cgroup = BusyCgroupV2.Create("perf-test");
        using var set = PerfCounterSet.Open(PerfTarget.Cgroup(cgroup.Directory), new[] { TaskClock, ContextSwitches });
        Assert.True(set.Status[0].Supported, set.Status[0].ToString());
        Assert.Equal(CpuList.ReadOnline().Length, set.Cpus.Count);
        set.Read();
        var before = set.GetTotal(0).Raw;
        Thread.Sleep(200);
        set.Read();
        Assert.True(set.GetTotal(0).Raw > before + 10_000_000, $"cgroup task_clock {before} -> {set.GetTotal(0).Raw}");
    }

    [Fact]
    public void CgroupThatDoesNotExistGivesAClearError()
    {
        var ex = Assert.ThrowsAny<VmProbeException>(() => PerfCounterSet.Open(PerfTarget.Cgroup("/sys/fs/cgroup/no-such-vmprobe-dir"), new[] { TaskClock }, cpus: new[] { 0 }));
        Assert.Equal("cgroup_open,ENOENT", ex.ErrorId);
        Assert.Contains("no-such-vmprobe-dir", ex.Message);
    }

    [SkippableFact]
    public void FdBudgetRaisesTheSoftLimitAndRefusesWhatDoesNotFit()
    {
        var budget = new PerfFdBudget();
        var (soft, hard) = PerfFdBudget.GetNoFileLimit();
        Assert.Equal(hard, soft);
        Assert.Equal(soft, budget.Limit);
        Assert.Equal(2L * 3 * 4, PerfFdBudget.Estimate(2, 3, 4));
        var ex = Assert.Throws<PerfFdBudgetExceededException>(() => budget.EnsureFits((long)budget.Limit, "test config"));
        Assert.Equal("perf_fd_budget,EMFILE", ex.ErrorId);
        Assert.Contains("test config", ex.Message);
        budget.EnsureFits(10, "small config");

        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        var opened = PerfFdBudget.OpenPerfFds;
        using var session = PerfSession.Open(new[] { TaskClock }, new[] { PerfTarget.Thread(GetTid()) }, budget: budget);
        Assert.Equal(opened + 1, PerfFdBudget.OpenPerfFds);
    }
}
