using VmProbe.Tests.Infrastructure;
using VmProbe.Native;
using VmProbe.Perf;
using Xunit;
using static VmProbe.Tests.Perf.PerfTestSupport;

namespace VmProbe.Tests.Perf;

[Collection(ProcessWideCollection.Name)]
public class PerfThreadTests
{
    [SkippableFact]
    public void TaskClockOfASpinningThreadMatchesSchedstatWithinTenPercent()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        using var worker = new WorkerThread();
        using var set = PerfCounterSet.Open(PerfTarget.Thread(worker.Tid), new[] { TaskClock, ContextSwitches });
        Assert.All(set.Status, s => Assert.True(s.Supported, s.ToString()));
        Assert.Equal(2, set.OpenFdCount);

        set.Read();
        var before = set.GetTotal(0);
        var schedBefore = ScheduledRunTimeNs(worker.Tid);
        worker.Do(() => WorkerThread.SpinCpu(TimeSpan.FromMilliseconds(200)));
        Assert.True(set.Read());
        var after = set.GetTotal(0);
        var schedAfter = ScheduledRunTimeNs(worker.Tid);

        var perfDelta = (double)(after.Raw - before.Raw);
        var schedDelta = (double)(schedAfter - schedBefore);
        Assert.True(schedDelta >= 200_000_000, $"the worker ran only {schedDelta} ns");
        Assert.InRange(perfDelta, schedDelta * 0.9, schedDelta * 1.1);
        Assert.True(after.TimeRunningNs > 0 && after.RunningRatio is > 0.99 and <= 1.0, $"ratio {after.RunningRatio}");
        Assert.Equal((double)after.Raw, after.Scaled, 0);
    }

    [SkippableFact]
    public void ContextSwitchesAndSchedSwitchTracepointGrowForASleepingThread()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        var idFile = "/sys/kernel/tracing/events/sched/sched_switch/id";
        if (!File.Exists(idFile) && Directory.Exists("/sys/kernel/tracing"))
        {
            Infrastructure.Requirements.Run("/bin/mount", "-t tracefs nodev /sys/kernel/tracing");
        }

        Skip.IfNot(File.Exists(idFile), "tracefs is not mounted at /sys/kernel/tracing and could not be mounted");
        var id = ulong.Parse(File.ReadAllText(idFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var schedSwitch = new PerfEventSpec("sched_sched_switch", PerfEventKind.Tracepoint, PerfEventConstants.TypeTracepoint, id, "sched:sched_switch");

        using var worker = new WorkerThread();
        using var set = PerfCounterSet.Open(PerfTarget.Thread(worker.Tid), new[] { ContextSwitches, schedSwitch });
        Assert.All(set.Status, s => Assert.True(s.Supported, s.ToString()));
        set.Read();
        var cs0 = set.GetTotal(0).Raw;
        var tp0 = set.GetTotal(1).Raw;
        worker.Do(() =>
        {
            for (var i = 0; i < 20; i++)
            {
                Thread.Sleep(1);
            }
        });
        set.Read();
        Assert.True(set.GetTotal(0).Raw >= cs0 + 20, $"context switches {cs0} -> {set.GetTotal(0).Raw}");
        Assert.True(set.GetTotal(1).Raw >= tp0 + 20, $"sched_switch {tp0} -> {set.GetTotal(1).Raw}");
    }

    [SkippableFact]
    public void HardwareEventInAGroupIsEitherCountingOrReportedUnsupportedWhileSoftwareEventsCount()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        using var worker = new WorkerThread();
        using var set = PerfCounterSet.Open(PerfTarget.Thread(worker.Tid), new[] { TaskClock, Cycles, ContextSwitches });
        worker.Do(() => WorkerThread.SpinCpu(TimeSpan.FromMilliseconds(10)));
        worker.Do(() => Thread.Sleep(1));
        set.Read();

        Assert.True(set.Status[0].Supported);
        Assert.True(set.Status[2].Supported);
        Assert.True(set.GetTotal(0).Raw > 8_000_000, $"task_clock {set.GetTotal(0).Raw}");
        Assert.True(set.GetTotal(2).Raw > 0, "context_switches did not count");
        var cycles = set.Status[1];
        if (cycles.Supported)
        {
            Assert.True(set.GetTotal(1).Raw > 0, "cycles is supported but did not count");
        }
        else
        {
            Assert.Contains(cycles.Errno, new[] { Errno.ENOENT, Errno.EOPNOTSUPP, Errno.ENODEV });
            Assert.StartsWith("perf_event_open,E", cycles.ErrorId);
            Assert.Contains("not supported", cycles.Reason);
            Assert.Equal(2, set.OpenFdCount);
        }
    }

    /// <summary>
    /// The kernel refuses a group member once the group's read() would exceed 16 KiB (E2BIG; about 1,000 events with
    /// FORMAT_GROUP|ID|TOTAL_TIME_*): the real case of a group too big to open whole. The set must fall back to a few
    /// smaller groups that all count, not drop the events past the limit nor open them one group each.
    /// </summary>
    [SkippableFact]
    public void GroupTooLargeForTheKernel_IsSplitIntoSmallerGroupsThatAllCount()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        const int EventCount = 2500;
        using var worker = new WorkerThread();
        var events = Enumerable.Repeat(TaskClock, EventCount).ToArray();
        using var set = PerfCounterSet.Open(PerfTarget.Thread(worker.Tid), events);
        Assert.All(set.Status, s => Assert.True(s.Supported, s.ToString()));
        Assert.Equal(EventCount, set.OpenFdCount);
        Assert.InRange(set.GroupCount, 2, 5);

        worker.Do(() => WorkerThread.SpinCpu(TimeSpan.FromMilliseconds(20)));
        Assert.True(set.Read());
        for (var e = 0; e < EventCount; e++)
        {
            Assert.True(set.GetTotal(e).Raw >= 15_000_000, $"event {e}: task_clock {set.GetTotal(e).Raw}");
        }
    }

    [SkippableFact]
    public void ThreadExitingMidSessionDoesNotMakeTheTotalGoBackwards()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        using var staying = new WorkerThread();
        var leaving = new WorkerThread();
        using var session = new ThreadPerfSession(new[] { TaskClock, ContextSwitches });
        var first = session.Sync(new[] { staying.Tid, leaving.Tid });
        Assert.Equal(new ThreadSyncResult(2, 0, 0), first);

        leaving.Do(() => WorkerThread.SpinCpu(TimeSpan.FromMilliseconds(20)));
        staying.Do(() => WorkerThread.Spin(TimeSpan.FromMilliseconds(20)));
        session.Read();
        var totalBefore = session.GetTotal(0).Raw;
        Assert.True(session.TryGetThread(leaving.Tid, 0, out var leavingCount));
        Assert.True(leavingCount.Raw > 15_000_000, $"leaving thread task_clock {leavingCount.Raw}");

        var leavingTid = leaving.Tid;
        leaving.Exit();
        session.Read(); // reading an exited thread must not throw
        var second = session.Sync(new[] { staying.Tid });
        Assert.Equal(new ThreadSyncResult(0, 1, 0), second);
        Assert.False(session.TryGetThread(leavingTid, 0, out _));
        Assert.True(session.GetRetired(0).Raw >= leavingCount.Raw);

        session.Read();
        Assert.True(session.GetTotal(0).Raw >= totalBefore, $"total went backwards: {totalBefore} -> {session.GetTotal(0).Raw}");
        Assert.Single(session.ThreadIds);
    }

    [SkippableFact]
    public void ThreadGoneBeforeOpenIsCountedAsVanished()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        var worker = new WorkerThread();
        var tid = worker.Tid;
        Skip.IfNot(worker.Exit(), "the exited thread's TID is still listed");
        using var session = new ThreadPerfSession(new[] { TaskClock });
        Assert.Equal(new ThreadSyncResult(0, 0, 1), session.Sync(new[] { tid }));
        Assert.Empty(session.ThreadIds);
        var ex = Assert.Throws<PerfEventException>(() => PerfCounterSet.Open(PerfTarget.Thread(tid), new[] { TaskClock }));
        Assert.Equal("perf_event_open,ESRCH", ex.ErrorId);
        Assert.Equal(ProbeErrorKind.NotFound, ex.Kind);
    }

    [SkippableFact]
    public void CountersOpenedAsideAreCountedOnceAdopted_ASecondSetForTheSameThreadIsClosed()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        using var worker = new WorkerThread();
        using var session = new ThreadPerfSession(new[] { TaskClock });
        var before = SafeFdHandle.OpenCount(FdKind.PerfEvent);

        var first = session.OpenCounters(worker.Tid);
        var second = session.OpenCounters(worker.Tid);
        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.Empty(session.ThreadIds); // opened, not counted yet

        session.Adopt(worker.Tid, first!);
        session.Adopt(worker.Tid, second!);
        Assert.Equal(new[] { worker.Tid }, session.ThreadIds);
        Assert.Equal(before + 1, SafeFdHandle.OpenCount(FdKind.PerfEvent)); // the second set's fd closed
        Assert.True(session.Status[0]?.Supported);

        worker.Do(() => WorkerThread.SpinCpu(TimeSpan.FromMilliseconds(5)));
        session.Read();
        Assert.True(session.TryGetThread(worker.Tid, 0, out var count) && count.Raw > 0, "the adopted counters counted nothing");
    }

    [SkippableFact]
    public void OpeningAndClosingAThousandSessionsLeaksNoFd()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        var tid = GetTid();
        using (var warmUp = PerfSession.Open(new[] { TaskClock }, new[] { PerfTarget.Thread(tid) }))
        {
            warmUp.Read();
        }

        // Let finalizers of earlier tests' handles run so only this test's fds are compared.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var perfBefore = PerfFdBudget.OpenPerfFds;
        var fdsBefore = Infrastructure.Requirements.OpenPerfEventFdCount();
        for (var i = 0; i < 1000; i++)
        {
            using var session = PerfSession.Open(new[] { TaskClock, ContextSwitches, Cycles }, new[] { PerfTarget.Thread(tid) });
            session.Read();
        }

        // No GC here: every fd must be closed by Dispose, not by a finalizer some time later.
        Assert.Equal(perfBefore, PerfFdBudget.OpenPerfFds);
        Assert.Equal(fdsBefore, Infrastructure.Requirements.OpenPerfEventFdCount());
    }
}
