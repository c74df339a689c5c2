using VmProbe.Config;
using VmProbe.Libvirt;
using VmProbe.Perf;
using VmProbe.Procfs;
using VmProbe.Prometheus;
using VmProbe.Views;

namespace VmProbe.Composition;

/// <summary>
/// Builds the probe's parts for a configuration: the domain discovery, the metric sources and the textfile sink.
/// The <c>vmprobe</c> runner and the PowerShell cmdlets both start from here, so they collect the same series.
/// </summary>
/// <remarks>
/// Every native resource belongs to exactly one part (a shared libvirt session to the discovery), so disposing the
/// parts one by one releases everything; <see cref="Dispose"/> does that too (each part's Dispose is idempotent).
/// </remarks>
internal sealed class ProbeComposition : IDisposable
{
    private readonly List<IDisposable> _owned = new();
    private readonly IProbeLog _log;
    private ITextfileSink? _sink;
    private bool _disposed;

    private ProbeComposition(ProbeConfig config, IProbeLog log, ProbeCompositionOptions options, ProbeOutputs outputs)
    {
        Config = config;
        Options = options;
        Outputs = outputs;
        _log = log;
    }

    /// <summary>Where cycles go besides the config's endpoint and csvdir.</summary>
    public ProbeOutputs Outputs { get; }

    public ProbeConfig Config { get; }

    public ProbeCompositionOptions Options { get; }

    /// <summary>How domains are found for <see cref="Config"/>.</summary>
    public IDomainDiscovery? Discovery { get; private set; }

    /// <summary>The sources in collection order: host, per-domain procfs, libvirt, perf.</summary>
    public IReadOnlyList<IMetricSource> Sources { get; private set; } = Array.Empty<IMetricSource>();

    /// <summary>Where each cycle is written (built on first use, so that a composition for the cmdlets needs no endpoint).</summary>
    public ITextfileSink Sink => _sink ??= Own(CreateSink());

    /// <summary>The source names <see cref="Create"/> builds for <paramref name="config"/>, without building anything (for <c>--check</c>).</summary>
    public static IReadOnlyList<string> DescribeSources(ProbeConfig config) =>
        SourceRegistry.EnabledFor(config).Select(registration => registration.Name).ToList();

    /// <summary>Builds the discovery and the sources for <paramref name="config"/>; opens nothing that can fail yet (libvirt connects on first use).</summary>
    public static ProbeComposition Create(ProbeConfig config, IProbeLog log, ProbeCompositionOptions? options = null, ProbeOutputs? outputs = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(log);
        var composition = new ProbeComposition(config, log, options ?? ProbeCompositionOptions.Default, outputs ?? ProbeOutputs.Default);
        try
        {
            composition.Build();
            return composition;
        }
        catch
        {
            composition.Dispose();
            throw;
        }
    }

    /// <summary>A cycle over this composition's discovery and sources.</summary>
    public ProbeCycle CreateCycle(IProbeClock? clock = null) => new(Discovery, Sources, _log, Config.DelayMs, clock);

    /// <summary>The loop both front ends run: a cycle over this composition's parts, exported through <see cref="Sink"/> every delay.</summary>
    public ProbeLoop CreateLoop(IProbeClock? clock = null) => new(CreateCycle(clock), Sink, _log, Config.DelayMs, clock);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;

        // Reverse creation order: the sink, the sources, then the discovery whose libvirt session they may use. The
        // sources share nothing, so where the log takes lines from any thread they close at once: perf's thousands of fd
        // closes then overlap the eBPF links' grace periods instead of following them.
        for (var i = _owned.Count - 1; i >= 0;)
        {
            var first = i;
            while (first > 0 && _owned[first] is IMetricSource && _owned[first - 1] is IMetricSource)
            {
                first--;
            }

            var parts = _owned.GetRange(first, i - first + 1);
            parts.Reverse();
            if (parts.Count > 1 && _log is IConcurrentProbeLog)
            {
                ConcurrentDisposal.DisposeAll(parts).ForEach(f => SayCloseFailed(_log, f.Part, f.Error));
            }
            else
            {
                parts.ForEach(Close);
            }

            i = first - 1;
        }

        _owned.Clear();
    }

    /// <summary>
    /// Takes the sources out of the composition (<see cref="Dispose"/> then closes the sink and the discovery) and closes
    /// them side by side off the calling thread (<see cref="CloseSourcesAsync(List{IDisposable}, IProbeLog)"/>).
    /// </summary>
    internal Task CloseSourcesAsync() => _disposed ? Task.CompletedTask : CloseSourcesAsync(_owned, _log);

    /// <summary>
    /// Takes the sources out of <paramref name="owned"/> and closes them side by side, off the calling thread; the task
    /// ends when all are closed and never faults (a failure is logged). For a run's last cycle, whose file is written
    /// meanwhile. Where the log takes lines from one thread only, nothing is taken: the owner's Dispose closes them.
    /// </summary>
    internal static Task CloseSourcesAsync(List<IDisposable> owned, IProbeLog log)
    {
        if (log is not IConcurrentProbeLog || !owned.Any(part => part is IMetricSource))
        {
            return Task.CompletedTask;
        }

        var sources = owned.Where(part => part is IMetricSource).Reverse().ToList();
        owned.RemoveAll(part => part is IMetricSource);
        return Task.Run(() => ConcurrentDisposal.DisposeAll(sources).ForEach(f => SayCloseFailed(log, f.Part, f.Error)));
    }

    private void Close(IDisposable part)
    {
        try
        {
            part.Dispose();
        }
        catch (Exception error)
        {
            SayCloseFailed(_log, part, error);
        }
    }

    private static void SayCloseFailed(IProbeLog log, IDisposable part, Exception error) =>
        log.Write(LogLevel.Warning, $"closing {part.GetType().Name} failed: {error.Message}");

    /// <summary>The libvirt session shared by the discovery and the libvirt source; null when the config does not use libvirt.</summary>
    public LibvirtSession? LibvirtSession { get; private set; }

    private void Build()
    {
        // The session connects on its first call, so a libvirtd that is down does not stop the probe from starting.
        if (SourceRegistry.UsesLibvirt(Config))
        {
            // A deadline of half the delay (at most the configured cap): a hung libvirtd never holds the file hostage.
            LibvirtSession = new LibvirtSession(Config.Url, LibvirtSession.DeadlineFor(Config.DelayMs, Options.LibvirtCallTimeout), _log);
        }

        Discovery = CreateDiscovery();
        // A source that borrows the libvirt session is disposed before the discovery that owns it (reverse order).
        var build = new SourceBuildContext(Config, _log, Options, LibvirtSession);
        Sources = SourceRegistry.EnabledFor(Config).Select(registration => Own(registration.Create(build))).ToList();
    }

    private IDomainDiscovery CreateDiscovery()
    {
        switch (Config.Discovery)
        {
            case DomainDiscovery.Process:
                return Own(new ProcessDomainDiscovery(Options.Root, Options.CgroupRoot));
            case DomainDiscovery.Libvirt:
                return Own(NewLibvirtDiscovery());
            default:
                return Own(new AutoDomainDiscovery(NewLibvirtDiscovery(), new ProcessDomainDiscovery(Options.Root, Options.CgroupRoot)));
        }
    }

    private LibvirtDomainDiscovery NewLibvirtDiscovery() =>
        new(LibvirtSession!, ownsSession: true, Options.LibvirtPidDirectory, Options.Root, Options.CgroupRoot);

    private ITextfileSink CreateSink()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var sinks = new List<ITextfileSink>();
        if (Outputs.Textfile)
        {
            var legacy = Config.Naming == MetricNaming.Legacy ? new LegacyExposition(Config.Events, Config.DelayMs, _log) : null;
            sinks.Add(new PromTextfileSink(Config.Endpoint, Config.Prefix, _log, legacy));
        }

        // The views read the labelled MetricSet of the same cycle (not the legacy transform), after the textfile.
        var views = Outputs.Views.ToList();
        var csvDir = Outputs.CsvDir ?? Config.CsvDir;
        if (csvDir is not null)
        {
            views.Add(new CsvDirectoryWriter(csvDir, _log));
        }

        if (views.Count > 0)
        {
            sinks.Add(new ViewSink(views, csvDir is null ? "the terminal" : $"{csvDir}/*.csv"));
        }

        return sinks.Count switch
        {
            0 => throw new InvalidOperationException("The probe has nowhere to write: no textfile and no view."),
            1 => sinks[0],
            _ => new CompositeSink(sinks),
        };
    }

    private T Own<T>(T part)
    {
        if (part is IDisposable disposable)
        {
            _owned.Add(disposable);
        }

        return part;
    }
}
