using VmProbe.Perf;
using VmProbe.Tests.Infrastructure;
using VmProbe.Procfs;
using Xunit;
using static VmProbe.Tests.Perf.PerfTestSupport;

namespace VmProbe.Tests.Perf;

/// <summary>
/// A thread that has not run since its last read keeps that read's counts (no group read): checked on the kernel's
/// own behaviour (a sleeping thread's software counters and enabled/running times stand still) and on the session.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public class PerfIdleThreadTests
{
    [SkippableFact]
    public void ASleepingThreadsCountsAndTimesStandStill()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        using var worker = new SleepingThread();
        using var set = PerfCounterSet.Open(PerfTarget.Thread(worker.Tid), new[] { TaskClock, ContextSwitches, PageFaults });
        worker.RunFor(TimeSpan.FromMilliseconds(10));
        set.Read();
        var runBefore = ScheduledRunTimeNs(worker.Tid);
        var before = Enumerable.Range(0, 3).Select(set.GetTotal).ToArray();
        Thread.Sleep(200);
        set.Read();
        Skip.If(ScheduledRunTimeNs(worker.Tid) != runBefore, "the idle worker was woken meanwhile");
        var after = Enumerable.Range(0, 3).Select(set.GetTotal).ToArray();
        Assert.Equal(before, after); // raw, enabled and running times all unchanged
        Assert.True(before[0].Raw > 0 && before[0].TimeEnabledNs > 0);
    }

    [SkippableFact]
    public void AThreadWhoseRunTimeDidNotMoveIsNotReadAgain_ARunningOneIs()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        using var idle = new SleepingThread();
        using var busy = new WorkerThread();
        var pid = Environment.ProcessId;
        var cache = new ThreadListingCache();
        using var session = new ThreadPerfSession(new[] { TaskClock, ContextSwitches });
        int[] tids = idle.Tid < busy.Tid ? new[] { idle.Tid, busy.Tid } : new[] { busy.Tid, idle.Tid };
        void Cycle()
        {
            cache.BeginCycle();
            cache.Store("/proc", pid, tids, tids.Select(ScheduledRunTimeNs).ToArray());
            session.Read(cache, pid);
        }

        Assert.Equal(new ThreadSyncResult(2, 0, 0), session.Sync(tids));
        busy.Do(() => WorkerThread.SpinCpu(TimeSpan.FromMilliseconds(5)));
        Cycle(); // first read of both
        Assert.Equal(0, session.IdleSkips);
        Assert.True(session.TryGetThread(idle.Tid, 0, out var idleFirst));
        Assert.True(session.TryGetThread(busy.Tid, 0, out var busyFirst));

        var idleRun = ScheduledRunTimeNs(idle.Tid);
        busy.Do(() => WorkerThread.SpinCpu(TimeSpan.FromMilliseconds(50)));
        Cycle();
        Skip.If(ScheduledRunTimeNs(idle.Tid) != idleRun, "the idle worker was woken meanwhile");
        Assert.Equal(1, session.IdleSkips);
        Assert.True(session.TryGetThread(idle.Tid, 0, out var idleSecond));
        Assert.Equal(idleFirst, idleSecond);
        Assert.True(session.TryGetThread(busy.Tid, 0, out var busySecond));
        Assert.True(busySecond.Raw - busyFirst.Raw >= 40_000_000, $"busy task_clock grew only {busySecond.Raw - busyFirst.Raw} ns");
        Assert.Equal(idleSecond.Raw + busySecond.Raw, session.GetTotal(0).Raw);

        // The idle thread runs: it is read again and its count moves.
        idle.RunFor(TimeSpan.FromMilliseconds(20));
        Cycle();
        Assert.True(session.TryGetThread(idle.Tid, 0, out var idleThird));
        Assert.True(idleThird.Raw - idleSecond.Raw >= 15_000_000, $"idle task_clock grew only {idleThird.Raw - idleSecond.Raw} ns");
    }

    [SkippableFact]
    public void WithoutRunTimesOrWithATracepointEveryThreadIsRead()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        using var idle = new SleepingThread();
        var pid = Environment.ProcessId;
        var cache = new ThreadListingCache();
        using var session = new ThreadPerfSession(new[] { TaskClock });
        session.Sync(new[] { idle.Tid });
        for (var i = 0; i < 3; i++)
        {
            cache.BeginCycle();
            cache.Store("/proc", pid, new[] { idle.Tid }); // a /proc listing: no run times
            session.Read(cache, pid);
        }

        Assert.Equal(0, session.IdleSkips);

        var tracepoint = new PerfEventSpec("sched_sched_switch", PerfEventKind.Tracepoint, VmProbe.Native.PerfEventConstants.TypeTracepoint, 0, "sched:sched_switch");
        using var traced = new ThreadPerfSession(new[] { TaskClock, tracepoint });
        for (var i = 0; i < 3; i++)
        {
            cache.BeginCycle();
            cache.Store("/proc", pid, new[] { idle.Tid }, new[] { 42UL }); // a run time that never moves
            traced.Read(cache, pid);
        }

        Assert.Equal(0, traced.IdleSkips); // tracepoints can count for a thread that is not running: never skipped
    }

    [Fact]
    public void RunTimesAreServedForTheirCycleOnly()
    {
        var cache = new ThreadListingCache();
        cache.BeginCycle();
        cache.Store("/proc", 10, new[] { 10, 12, 15 }, new ulong[] { 100, 200, 300 });
        Assert.True(cache.TryGetRunTime(10, 15, out var run));
        Assert.Equal(300UL, run);
        Assert.False(cache.TryGetRunTime(10, 11, out _));
        Assert.False(cache.TryGetRunTime(11, 10, out _));
        cache.BeginCycle();
        Assert.False(cache.TryGetRunTime(10, 12, out _));
        cache.Store("/proc", 10, new[] { 10, 12 });
        Assert.False(cache.TryGetRunTime(10, 12, out _)); // a /proc listing has none
    }
}

/// <summary>A thread blocked in the kernel (an infinite sleep) that runs only when told to: a WorkerThread's wait spins.</summary>
internal sealed class SleepingThread : IDisposable
{
    private readonly Thread thread;
    private readonly SemaphoreSlim ran = new(0);
    private readonly ManualResetEventSlim started = new();
    private volatile bool stop;
    private TimeSpan runFor;

    public SleepingThread()
    {
        thread = new Thread(Run) { IsBackground = true, Name = "perf-test-sleeper" };
        thread.Start();
        started.Wait();
        Thread.Sleep(50); // past the start's own wake-ups
    }

    public int Tid { get; private set; }

    /// <summary>Wakes the thread, which burns <paramref name="cpuTime"/> of CPU and sleeps again.</summary>
    public void RunFor(TimeSpan cpuTime)
    {
        runFor = cpuTime;
        thread.Interrupt();
        ran.Wait();
        Thread.Sleep(20); // let it get back into the sleep
    }

    public void Dispose()
    {
        stop = true;
        thread.Interrupt();
        thread.Join();
    }

    private void Run()
    {
        Tid = GetTid();
        started.Set();
        while (true)
        {
            try
            {
                Thread.Sleep(Timeout.Infinite);
            }
            catch (ThreadInterruptedException)
            {
                if (stop)
                {
                    return;
                }

                WorkerThread.SpinCpu(runFor);
                ran.Release();
            }
        }
    }
}
