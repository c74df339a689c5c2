using VmProbe.Config;

namespace VmProbe.Composition;

/// <summary>
/// A probe ready to run: the loop over a composition's discovery, sources and sink, and everything they hold. The
/// <c>vmprobe</c> runner runs its <see cref="Loop"/> to the end; the module's Open-VmProbe / Invoke-VmProbeCycle /
/// Close-VmProbe step it one cycle per command. Disposing it releases every fd, map and connection of its parts.
/// </summary>
public sealed class ProbeRun : IDisposable
{
    private readonly List<IDisposable> _owned;
    private readonly IProbeLog _log;
    private int _disposed;

    private ProbeRun(ProbeLoop loop, IReadOnlyList<string> sourceNames, List<IDisposable> owned, IProbeLog log)
    {
        Loop = loop;
        SourceNames = sourceNames;
        _owned = owned;
        _log = log;
    }

    public ProbeLoop Loop { get; }

    /// <summary>The sources in collection order (their <c>source</c> labels).</summary>
    public IReadOnlyList<string> SourceNames { get; }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>
    /// The clock for a front end whose thread does nothing but run the loop (the runner): it waits on that thread, so a
    /// cycle wakes one thread instead of the timer thread and a pool thread.
    /// </summary>
    public static IProbeClock BlockingClock => SystemProbeClock.Blocking;

    /// <summary>Builds the probe <paramref name="config"/> describes (nothing that can fail is opened yet, but the endpoint is checked).</summary>
    public static ProbeRun Start(ProbeConfig config, IProbeLog log, ProbeCompositionOptions? options = null, IProbeClock? clock = null, ProbeOutputs? outputs = null)
    {
        var composition = ProbeComposition.Create(config, log, options, outputs);
        try
        {
            var loop = composition.CreateLoop(clock);
            return new ProbeRun(loop, composition.Sources.Select(s => s.Name).ToList(), new List<IDisposable> { composition }, log);
        }
        catch
        {
            composition.Dispose();
            throw;
        }
    }

    /// <summary>A probe from given parts (tests, embedding); it owns and disposes every part that is disposable.</summary>
    public static ProbeRun FromParts(
        IDomainDiscovery? discovery, IReadOnlyList<IMetricSource> sources, ITextfileSink sink, IProbeLog log, int delayMs, IProbeClock? clock = null)
    {
        var cycle = new ProbeCycle(discovery, sources, log, delayMs, clock);
        var owned = new List<IDisposable>();
        owned.AddRange(new object?[] { sink, discovery }.OfType<IDisposable>());
        owned.AddRange(sources);
        return new ProbeRun(new ProbeLoop(cycle, sink, log, delayMs, clock), sources.Select(s => s.Name).ToList(), owned, log);
    }

    /// <summary>
    /// The runner's <c>--once</c>: <see cref="ProbeLoop.RunOnceAsync"/>, with the sources closed while the file is written
    /// (their teardown is mostly waiting in the kernel: an eBPF link's grace periods, thousands of perf fds). Returns once
    /// both ended; <see cref="Dispose"/> then closes the rest. Throws what the export threw.
    /// </summary>
    public async Task RunOnceAsync(CancellationToken stopToken)
    {
        var closing = Task.CompletedTask;
        try
        {
            // After the collection, which waited for any background set-up: no eBPF load is left to race the closes.
            await Loop.RunOnceAsync(stopToken, () => closing =
                _owned is [ProbeComposition composition] ? composition.CloseSourcesAsync() : ProbeComposition.CloseSourcesAsync(_owned, _log)).ConfigureAwait(false);
        }
        finally
        {
            await closing.ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            Loop.WaitForSetUps(); // a background eBPF load must end before its source is disposed
        }
        catch (Exception error)
        {
            _log.Write(LogLevel.Warning, $"waiting for the sources' set-ups failed: {VmProbeException.Describe(error)}");
        }

        // Reverse order: sources before the discovery whose connection they may share.
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            try
            {
                _owned[i].Dispose();
            }
            catch (Exception error)
            {
                _log.Write(LogLevel.Warning, $"closing {_owned[i].GetType().Name} failed: {VmProbeException.Describe(error)}");
            }
        }
    }
}
