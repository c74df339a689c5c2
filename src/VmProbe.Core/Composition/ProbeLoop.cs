namespace VmProbe.Composition;

/// <summary>
/// Runs <see cref="ProbeCycle"/>s on a fixed monotonic grid (tick k at start + k * delay, see <see cref="ProbeSchedule"/>)
/// and exports each through the sink.
/// </summary>
/// <remarks>
/// Sources implementing <see cref="IPreparedSource"/> are prepared at tick 0 and first collected at tick 1, so that their
/// first values cover one full delay; without such sources the first cycle runs at tick 0.
/// A stop request (the token) never interrupts a cycle: the cycle in progress is finished and exported, then the loop
/// returns. A stop during the wait between two cycles returns at once. The sources receive no token to abort with.
/// A cycle that runs past the next tick is logged as a warning and the loop resumes at the next tick still in the future.
/// </remarks>
public sealed class ProbeLoop
{
    private readonly ProbeCycle _cycle;
    private readonly ITextfileSink _sink;
    private readonly IProbeLog _log;
    private readonly IProbeClock _clock;
    private readonly long _delayMs;

    public ProbeLoop(ProbeCycle cycle, ITextfileSink sink, IProbeLog log, int delayMs, IProbeClock? clock = null)
    {
        ArgumentNullException.ThrowIfNull(cycle);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(log);
        if (delayMs <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(delayMs), delayMs, "The delay must be positive.");
        }

        _cycle = cycle;
        _sink = sink;
        _log = log;
        _delayMs = delayMs;
        _clock = clock ?? SystemProbeClock.Instance;
    }

    /// <summary>Cycles collected and handed to the sink (exported or failed).</summary>
    public long CyclesCompleted { get; private set; }

    /// <summary>Cycles whose export failed.</summary>
    public long ExportFailures { get; private set; }

    /// <summary>Runs cycles until <paramref name="stopToken"/> is cancelled; returns after exporting the cycle in progress.</summary>
    public async Task RunAsync(CancellationToken stopToken)
    {
        var startMs = _clock.MonotonicMilliseconds;
        long tick = 0;
        if (_cycle.HasPreparedSources)
        {
            _cycle.Prepare(CancellationToken.None);
            tick = 1;

            // The first cycle is in progress from Prepare on: a stop during its interval still collects and exports it.
            if (!await _clock.DelayUntilAsync(startMs + _delayMs, stopToken).ConfigureAwait(false))
            {
                RunCycle(throwOnExportFailure: false);
                return;
            }
        }

        while (true)
        {
            var cycleStartMs = _clock.MonotonicMilliseconds;
            RunCycle(throwOnExportFailure: false);
            if (stopToken.IsCancellationRequested)
            {
                return;
            }

            var nowMs = _clock.MonotonicMilliseconds;
            var next = ProbeSchedule.Next(startMs, _delayMs, tick, nowMs);
            if (next.Skipped > 0)
            {
                _log.Write(LogLevel.Warning,
                    $"cycle took {nowMs - cycleStartMs} ms, longer than the {_delayMs} ms delay; skipped {next.Skipped} tick(s), next cycle in {next.DueMs - nowMs} ms");
            }

            tick = next.Tick;
            if (!await _clock.DelayUntilAsync(next.DueMs, stopToken).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>
    /// One cycle for <c>--once</c>: prepare (and wait one delay) when some source needs it, collect, export.
    /// A stop during the wait collects at once. Throws what the sink threw, after counting and logging it.
    /// </summary>
    public async Task RunOnceAsync(CancellationToken stopToken)
    {
        if (_cycle.HasPreparedSources)
        {
            var startMs = _clock.MonotonicMilliseconds;
            _cycle.Prepare(CancellationToken.None);
            await _clock.DelayUntilAsync(startMs + _delayMs, stopToken).ConfigureAwait(false);
        }

        RunCycle(throwOnExportFailure: true);
    }

    private void RunCycle(bool throwOnExportFailure)
    {
        var metrics = _cycle.Collect(CancellationToken.None);
        CyclesCompleted++;
        try
        {
            _sink.Export(metrics);
        }
        catch (Exception error)
        {
            ExportFailures++;
            _cycle.ReportExport(error);
            if (throwOnExportFailure)
            {
                throw;
            }

            return;
        }

        _cycle.ReportExport(null);
        if (_log.IsEnabled(LogLevel.Debug))
        {
            _log.Write(LogLevel.Debug, $"cycle {CyclesCompleted}: {_cycle.LastDomains.Count} domain(s), exported to {_sink.Destination}");
        }
    }
}
