namespace VmProbe.Composition;

/// <summary>
/// Runs <see cref="ProbeCycle"/>s on a fixed monotonic grid (tick k at start + k * delay, see <see cref="ProbeSchedule"/>)
/// and exports each through the sink. <see cref="RunNextAsync"/> is one step of the grid: the runner calls it in a loop
/// (<see cref="RunAsync"/>) and the module's Invoke-VmProbeCycle calls it once per command, so both front ends share one
/// schedule, one cycle and one export path.
/// </summary>
/// <remarks>
/// Sources implementing <see cref="IPreparedSource"/> are prepared at tick 0 and first collected at tick 1, so that their
/// first values cover one full delay; without such sources the first cycle runs at tick 0.
/// A stop request (the token) never interrupts a cycle: the cycle in progress is finished and exported. A stop during the
/// first interval (counters prepared and counting) still collects and exports that cycle; a stop during a later wait
/// between two cycles returns at once. The sources receive no token to abort with.
/// A cycle that runs past the next tick is logged as a warning and the next one starts at the next tick still in the future.
/// </remarks>
public sealed class ProbeLoop
{
    private readonly ProbeCycle _cycle;
    private readonly ITextfileSink _sink;
    private readonly IProbeLog _log;
    private readonly IProbeClock _clock;
    private readonly long _delayMs;
    private long _startMs;
    private long _tick = -1; // -1: nothing ran yet
    private long _lastCycleStartMs;

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

    /// <summary>Waits for the sources' set-ups still running in the background: call before disposing the sources.</summary>
    public void WaitForSetUps() => _cycle.WaitForSetUps();

    /// <summary>Cycles whose export failed.</summary>
    public long ExportFailures { get; private set; }

    /// <summary>Where each cycle is written.</summary>
    public string Destination => _sink.Destination;

    /// <summary>Runs cycles until <paramref name="stopToken"/> is cancelled; returns after exporting the cycle in progress.</summary>
    public async Task RunAsync(CancellationToken stopToken)
    {
        while (await RunNextAsync(stopToken).ConfigureAwait(false) is not null && !stopToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Waits for the next tick of the grid, then collects and exports one cycle. The first call starts the grid (and
    /// prepares the counting sources, waiting one delay). Returns null when stopped before a cycle began; an export
    /// failure is counted, logged and reported in the outcome, not thrown.
    /// </summary>
    public Task<CycleOutcome?> RunNextAsync(CancellationToken stopToken) => RunNextAsync(stopToken, collected: null, last: false);

    private async Task<CycleOutcome?> RunNextAsync(CancellationToken stopToken, Action? collected, bool last)
    {
        var nowMs = _clock.MonotonicMilliseconds;
        long skipped = 0;
        if (_tick < 0)
        {
            _startMs = nowMs;
            _tick = 0;
            if (_cycle.HasPreparedSources)
            {
                _cycle.Prepare(CancellationToken.None);
                _tick = 1;

                // One delay of counting: the grid starts when the counters opened, however long the discovery took.
                _startMs = _cycle.CountersOpenedAtMs;

                // The first cycle is in progress from Prepare on: a stop during its interval still collects and exports it.
                await _clock.DelayUntilAsync(_startMs + _delayMs, stopToken).ConfigureAwait(false);
            }
        }
        else
        {
            var next = ProbeSchedule.Next(_startMs, _delayMs, _tick, nowMs);
            skipped = next.Skipped;
            if (skipped > 0)
            {
                _log.Write(LogLevel.Warning,
                    $"cycle took {nowMs - _lastCycleStartMs} ms, longer than the {_delayMs} ms delay; skipped {skipped} tick(s), next cycle in {next.DueMs - nowMs} ms");
            }

            _tick = next.Tick;
            if (!await _clock.DelayUntilAsync(next.DueMs, stopToken).ConfigureAwait(false))
            {
                return null;
            }
        }

        _cycle.WaitForSetUps(); // the cycle's start and timestamp come after a set-up still running
        _lastCycleStartMs = _clock.MonotonicMilliseconds;
        return RunCycle(skipped, collected, last);
    }

    /// <summary>
    /// One cycle for <c>--once</c>: prepare (and wait one delay) when some source needs it, collect, export
    /// (<see cref="ITextfileSink.ExportLast"/>: the loop runs no cycle after it).
    /// A stop during the wait collects at once. Throws what the sink threw, after counting and logging it.
    /// <paramref name="collected"/> runs between the collection and the export (<see cref="ProbeRun.RunOnceAsync"/>
    /// closes the sources there).
    /// </summary>
    public async Task RunOnceAsync(CancellationToken stopToken, Action? collected = null)
    {
        var outcome = await RunNextAsync(stopToken, collected, last: true).ConfigureAwait(false);
        if (outcome?.ExportError is { } error)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }
    }

    private CycleOutcome RunCycle(long skippedTicks, Action? collected, bool last)
    {
        var timestamp = _clock.UtcNow;
        var metrics = _cycle.Collect(CancellationToken.None);
        CyclesCompleted++;
        collected?.Invoke();
        Exception? exportError = null;
        var exportCpuNs = _log.IsEnabled(LogLevel.Debug) ? VmProbe.Native.ThreadCpuTime.Nanoseconds() : 0;
        try
        {
            if (last)
            {
                _sink.ExportLast(metrics);
            }
            else
            {
                _sink.Export(metrics);
            }

            _cycle.ReportExport(null);
        }
        catch (Exception error)
        {
            ExportFailures++;
            exportError = error;
            _cycle.ReportExport(error);
        }

        if (exportError is null && _log.IsEnabled(LogLevel.Debug))
        {
            exportCpuNs = VmProbe.Native.ThreadCpuTime.Nanoseconds() - exportCpuNs;
            _log.Write(LogLevel.Debug, $"cycle {CyclesCompleted}: {_cycle.LastDomains.Count} domain(s), exported to {_sink.Destination}; CPU us: {_cycle.LastCpuSplit()}, export {exportCpuNs / 1000}");
        }

        return new CycleOutcome(CyclesCompleted, timestamp, _cycle.LastDuration, _cycle.LastDomains.Count, skippedTicks, _sink.Destination, exportError);
    }
}
