using Xunit;
using VmProbe.Composition;

namespace VmProbe.Tests.Probe;

public class ProbeLoopTests
{
    [Fact]
    public async Task CyclesRunOnTheGridAndAnOverrunSkipsMissedTicks()
    {
        var clock = new ManualProbeClock { MonotonicMilliseconds = 10_000 };
        var log = new RecordingLog();
        var source = new KnownSource("host", clock);
        source.DurationByCall[1] = 2_500; // the second cycle (tick 1, at 11000) ends at 13500: ticks 2 and 3 are missed
        source.DurationByCall[2] = 30;
        using var stop = new CancellationTokenSource();
        source.DuringCollect = call => { if (call == 4) stop.Cancel(); };
        var sink = new SnapshotSink();
        var loop = new ProbeLoop(new ProbeCycle(null, new IMetricSource[] { source }, log, 1000, clock), sink, log, 1000, clock);

        await loop.RunAsync(stop.Token);

        Assert.Equal(new long[] { 10_000, 11_000, 14_000, 15_000, 16_000 }, source.CollectTimes);
        Assert.Equal(new long[] { 11_000, 14_000, 15_000, 16_000 }, clock.Waits);
        Assert.Equal(5, sink.Exports.Count);
        var warning = Assert.Single(log.Lines, l => l.Level == LogLevel.Warning);
        Assert.Contains("cycle took 2500 ms, longer than the 1000 ms delay; skipped 2 tick(s)", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStopDuringACycleFinishesAndExportsIt()
    {
        var clock = new ManualProbeClock();
        var log = new RecordingLog();
        using var stop = new CancellationTokenSource();
        var stopper = new KnownSource("host", clock) { DuringCollect = call => { if (call == 2) stop.Cancel(); } };
        var later = new KnownSource("procfs", clock);
        var sink = new SnapshotSink();
        var loop = new ProbeLoop(new ProbeCycle(null, new IMetricSource[] { stopper, later }, log, 5000, clock), sink, log, 5000, clock);

        await loop.RunAsync(stop.Token);

        Assert.Equal(3, loop.CyclesCompleted);
        Assert.Equal(3, sink.Exports.Count);
        var last = sink.Exports[^1];
        Assert.Equal(3, Assert.Single(last["procfs_value"]).Value); // the source after the stop request still ran
        Assert.Contains("probe_last_cycle_timestamp_seconds", last.Keys);
        Assert.Equal(2, clock.Waits.Count); // no wait after the stopped cycle
    }

    [Fact]
    public async Task AStopWhileWaitingReturnsWithoutAnotherCycle()
    {
        var clock = new ManualProbeClock();
        var log = new RecordingLog();
        var source = new KnownSource("host", clock);
        var sink = new SnapshotSink();
        using var stop = new CancellationTokenSource();
        stop.Cancel();
        var loop = new ProbeLoop(new ProbeCycle(null, new IMetricSource[] { source }, log, 5000, clock), sink, log, 5000, clock);

        await loop.RunAsync(stop.Token);

        // The first cycle starts immediately (nothing to prepare) and is exported; then the loop returns.
        Assert.Single(source.CollectTimes);
        Assert.Single(sink.Exports);
    }

    [Fact]
    public async Task PreparedSourcesArePreparedOneDelayBeforeTheFirstCollection()
    {
        var clock = new ManualProbeClock { MonotonicMilliseconds = 700 };
        var log = new RecordingLog();
        using var stop = new CancellationTokenSource();
        var perf = new PreparedKnownSource("perf", clock) { DuringCollect = call => { if (call == 1) stop.Cancel(); } };
        var sink = new SnapshotSink();
        var loop = new ProbeLoop(new ProbeCycle(null, new IMetricSource[] { perf }, log, 2000, clock), sink, log, 2000, clock);

        await loop.RunAsync(stop.Token);

        Assert.Equal(new long[] { 700 }, perf.PrepareTimes);
        Assert.Equal(new long[] { 2_700, 4_700 }, perf.CollectTimes);
        Assert.Equal(2, sink.Exports.Count);
        Assert.Equal(0, sink.Exports[^1]["probe_errors_total"].Single(s => s.Labels == "source=perf").Value);
    }

    [Fact]
    public async Task RunOncePreparesWaitsOneDelayCollectsAndExportsOnce()
    {
        var clock = new ManualProbeClock { MonotonicMilliseconds = 50 };
        var log = new RecordingLog();
        var perf = new PreparedKnownSource("perf", clock);
        var host = new KnownSource("host", clock);
        var sink = new SnapshotSink();
        var loop = new ProbeLoop(new ProbeCycle(null, new IMetricSource[] { host, perf }, log, 3000, clock), sink, log, 3000, clock);

        await loop.RunOnceAsync(CancellationToken.None);

        Assert.Equal(new long[] { 50 }, perf.PrepareTimes);
        Assert.Equal(new long[] { 3_050 }, perf.CollectTimes);
        Assert.Equal(new long[] { 3_050 }, host.CollectTimes);
        Assert.Equal(new long[] { 3_050 }, clock.Waits);
        Assert.Contains("perf_value", Assert.Single(sink.Exports).Keys);
    }

    [Fact]
    public async Task RunOnceWithoutPreparedSourcesDoesNotWait()
    {
        var clock = new ManualProbeClock();
        var host = new KnownSource("host", clock);
        var sink = new SnapshotSink();
        var log = new RecordingLog();
        var loop = new ProbeLoop(new ProbeCycle(null, new IMetricSource[] { host }, log, 3000, clock), sink, log, 3000, clock);

        await loop.RunOnceAsync(CancellationToken.None);

        Assert.Empty(clock.Waits);
        Assert.Single(sink.Exports);
    }

    [Fact]
    public async Task AFailedExportIsCountedAndTheLoopGoesOn()
    {
        var clock = new ManualProbeClock();
        var log = new RecordingLog();
        using var stop = new CancellationTokenSource();
        var sink = new SnapshotSink { FailWith = new IOException("No space left on device") };
        var source = new KnownSource("host", clock)
        {
            DuringCollect = call =>
            {
                if (call == 2) sink.FailWith = null;
                if (call == 3) stop.Cancel();
            },
        };
        var loop = new ProbeLoop(new ProbeCycle(null, new IMetricSource[] { source }, log, 1000, clock), sink, log, 1000, clock);

        await loop.RunAsync(stop.Token);

        Assert.Equal(4, loop.CyclesCompleted);
        Assert.Equal(2, loop.ExportFailures);
        Assert.Equal(2, sink.Exports.Count);
        Assert.Equal(2, sink.Exports[0]["probe_errors_total"].Single(s => s.Labels == "source=textfile").Value);
        Assert.Equal(1, log.Count(LogLevel.Error, "export textfile failed: IOException: No space left on device"));
        Assert.Equal(1, log.Count(LogLevel.Info, "export textfile recovered after 2 failure(s)"));
    }

    [Fact]
    public async Task RunOnceRethrowsAFailedExport()
    {
        var clock = new ManualProbeClock();
        var log = new RecordingLog();
        var sink = new SnapshotSink { FailWith = new UnauthorizedAccessException("read-only") };
        var loop = new ProbeLoop(new ProbeCycle(null, new IMetricSource[] { new KnownSource("host", clock) }, log, 1000, clock), sink, log, 1000, clock);

        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => loop.RunOnceAsync(CancellationToken.None));
        Assert.Equal(1, loop.ExportFailures);
    }

    [Fact]
    public async Task TheRealClockWaitsUntilItsTarget()
    {
        // Not a timing assertion: only that the wait does not return before the monotonic target.
        var clock = SystemProbeClock.Instance;
        var target = clock.MonotonicMilliseconds + 30;
        Assert.True(await clock.DelayUntilAsync(target, CancellationToken.None));
        Assert.True(clock.MonotonicMilliseconds >= target);

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.False(await clock.DelayUntilAsync(clock.MonotonicMilliseconds + 60_000, cancelled.Token));
    }

    [Fact]
    public async Task TheRunnersClockWaitsOnTheCallingThreadAndAStopWakesIt()
    {
        var clock = SystemProbeClock.Blocking;
        var thread = Environment.CurrentManagedThreadId;
        var target = clock.MonotonicMilliseconds + 30;
        var wait = clock.DelayUntilAsync(target, CancellationToken.None);
        Assert.True(wait.IsCompleted); // waited here, not on a timer
        Assert.True(clock.MonotonicMilliseconds >= target);
        Assert.True(await wait);
        Assert.Equal(thread, Environment.CurrentManagedThreadId);

        using var stop = new CancellationTokenSource();
        stop.CancelAfter(50);
        var stopped = clock.DelayUntilAsync(clock.MonotonicMilliseconds + 600_000, stop.Token);
        Assert.True(stopped.IsCompleted);
        Assert.False(await stopped); // a stop ends a ten-minute wait (this test would hang otherwise)
    }

    [Fact]
    public async Task ADebugLogGetsEachPartsCpuTimeOfTheCycle()
    {
        var clock = new ManualProbeClock { MonotonicMilliseconds = 10_000 };
        var log = new RecordingLog();
        var busy = new KnownSource("busy", clock)
        {
            DuringCollect = _ =>
            {
                // 3 ms of this thread's CPU, however long the machine makes it take
                var start = VmProbe.Native.ThreadCpuTime.Nanoseconds();
                while (VmProbe.Native.ThreadCpuTime.Nanoseconds() - start < 3_000_000)
                {
                }
            },
        };
        var idle = new KnownSource("idle", clock);
        var loop = new ProbeLoop(new ProbeCycle(null, new IMetricSource[] { busy, idle }, log, 1000, clock), new SnapshotSink(), log, 1000, clock);

        await loop.RunNextAsync(CancellationToken.None);

        var line = Assert.Single(log.Lines, l => l.Level == LogLevel.Debug && l.Message.Contains("CPU us:", StringComparison.Ordinal)).Message;
        var parts = line[(line.IndexOf("CPU us: ", StringComparison.Ordinal) + 8)..].Split(", ")
            .Select(part => part.Split(' '))
            .ToDictionary(p => p[0], p => long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(new[] { "discovery", "busy", "idle", "probe", "export" }, parts.Keys);
        Assert.InRange(parts["busy"], 3_000, 1_000_000);
        Assert.True(parts["idle"] < 3_000, line);
    }
}
