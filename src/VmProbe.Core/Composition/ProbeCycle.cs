using System.Diagnostics;
using VmProbe.Prometheus;

namespace VmProbe.Composition;

/// <summary>
/// One collection cycle: discover the domains, let every source add its metrics (each isolated in its own try/catch),
/// then add the probe's own metrics. The returned <see cref="MetricSet"/> is reused by the next cycle: export it before
/// calling <see cref="Collect"/> again. Not thread-safe; the loop calls it from one thread at a time.
/// </summary>
/// <remarks>
/// Probe metrics (names without the configured prefix):
/// <c>probe_info{version}</c> 1; <c>probe_errors_total{source}</c> exceptions that escaped a source, the discovery
/// or the export, and each part a source reported it could not read (in each cycle), cumulative since start, every
/// known source present from the first cycle;
/// <c>probe_last_cycle_timestamp_seconds</c> unix time at which this cycle started (each family also carries
/// <see cref="MetricFamily.ReadAt"/>, when its source began reading, after discovery and the sources before it);
/// <c>probe_cycle_duration_seconds</c> this cycle's duration from the start of discovery to the end of the last source
/// (the export of this very file is not included: it cannot be measured before it is written);
/// <c>probe_interval_seconds</c> the configured delay; <c>probe_domains</c> domains found this cycle;
/// <c>probe_open_fds</c> file descriptors open in the probe process.
/// </remarks>
public sealed class ProbeCycle
{
    /// <summary>The <c>source</c> label of failed textfile exports, reported by the loop.</summary>
    public const string ExportSourceName = "textfile";

    private readonly IDomainDiscovery? _discovery;
    private readonly IMetricSource[] _sources;
    private readonly IProbeLog _log;
    private readonly IProbeClock _clock;
    private readonly MetricSet _metrics = new();
    private readonly CycleState _shared = new();
    private readonly List<VmProbeException> _itemErrors = new();
    private readonly ComponentHealth? _discoveryHealth;
    private readonly ComponentHealth[] _sourceHealth;
    private readonly ComponentHealth _exportHealth;

    // Cumulative error counts by source label, in first-seen order so the exported series order is stable.
    private readonly List<string> _errorLabels = new();
    private readonly Dictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly string[][] _errorLabelValues;
    private readonly string[] _versionLabel = { ProbeInfo.Version };
    private readonly double _intervalSeconds;

    // CPU ns of each part of the last cycle (discovery, each source, the probe's own series), measured only when the
    // log takes debug lines: the runner's per-source split (--log-level debug) without a clock read per part otherwise.
    private readonly long[] _partCpuNs;
    private readonly EarlySetups _setUps;
    private bool _timed;

    public ProbeCycle(IDomainDiscovery? discovery, IReadOnlyList<IMetricSource> sources, IProbeLog log, int delayMs, IProbeClock? clock = null)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(log);
        if (delayMs <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(delayMs), delayMs, "The delay must be positive.");
        }

        _discovery = discovery;
        if (discovery is ISharesCycleState sharing)
        {
            sharing.Shared ??= _shared;
        }

        _sources = sources.ToArray();
        _log = log;
        _clock = clock ?? SystemProbeClock.Instance;
        _intervalSeconds = delayMs / 1000.0;

        if (discovery is not null)
        {
            _discoveryHealth = new ComponentHealth(discovery.Name, "domain discovery");
            RegisterErrorLabel(discovery.Name);
        }

        _sourceHealth = new ComponentHealth[_sources.Length];
        for (var i = 0; i < _sources.Length; i++)
        {
            _sourceHealth[i] = new ComponentHealth(_sources[i].Name, "source");
            RegisterErrorLabel(_sources[i].Name);
        }

        _exportHealth = new ComponentHealth(ExportSourceName, "export");
        RegisterErrorLabel(ExportSourceName);
        _errorLabelValues = _errorLabels.Select(label => new[] { label }).ToArray();
        _partCpuNs = new long[_sources.Length + 2];
        _setUps = new EarlySetups(_sources, log);
    }

    /// <summary>
    /// The CPU time of each part of the last <see cref="Collect"/> in microseconds ("discovery 120, host 35, ..., probe 8"),
    /// or null when the log did not take debug lines then (the parts are timed only for them).
    /// </summary>
    public string? LastCpuSplit()
    {
        if (!_timed)
        {
            return null;
        }

        var text = new System.Text.StringBuilder();
        text.Append(System.Globalization.CultureInfo.InvariantCulture, $"discovery {_partCpuNs[0] / 1000}");
        for (var i = 0; i < _sources.Length; i++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $", {_sources[i].Name} {_partCpuNs[i + 1] / 1000}");
        }

        text.Append(System.Globalization.CultureInfo.InvariantCulture, $", probe {_partCpuNs[^1] / 1000}");
        return text.ToString();
    }

    public IReadOnlyList<IMetricSource> Sources => _sources;

    /// <summary>Whether some source needs <see cref="Prepare"/> and one delay of counting before its first collection.</summary>
    public bool HasPreparedSources => _sources.Any(source => source is IPreparedSource);

    /// <summary>The domains of the last <see cref="Prepare"/> or <see cref="Collect"/>.</summary>
    public IReadOnlyList<VmDomain> LastDomains { get; private set; } = Array.Empty<VmDomain>();

    /// <summary>How long the last <see cref="Collect"/> took, from discovery to the last source.</summary>
    public TimeSpan LastDuration { get; private set; }

    /// <summary>Cumulative errors counted under a source label (0 for an unknown label).</summary>
    public long ErrorCount(string source) => _errors.TryGetValue(source, out var count) ? count : 0;

    /// <summary>
    /// Discovers the domains and calls <see cref="IPreparedSource.Prepare"/> on the sources that have it, then the
    /// discovery's <see cref="IDiscoveryWarmUp.WarmUp"/> and the sources' <see cref="IWarmUpSource.WarmUp"/>, with
    /// <see cref="IEarlySetup.SetUp"/> beside them or after them (<see cref="EarlySetups"/>); failures are counted like
    /// collection failures.
    /// </summary>
    public void Prepare(CancellationToken cancellationToken)
    {
        _shared.BeginCycle();
        _setUps.TryBeginInBackground();
        var context = new CycleContext(Discover(cancellationToken), _clock.UtcNow, _log, cancellationToken) { Shared = _shared };
        for (var i = 0; i < _sources.Length; i++)
        {
            if (_sources[i] is not IPreparedSource prepared)
            {
                continue;
            }

            try
            {
                prepared.Prepare(context);
                _sourceHealth[i].Succeeded(_log);
            }
            catch (Exception error)
            {
                CountFailure(_sourceHealth[i], error);
            }
        }

        CountersOpenedAtMs = _clock.MonotonicMilliseconds;
        WarmUp(context); // inside the first delay, which counts from the line above

        // Else after the counters are open, so that the set-ups overlap the first delay without shortening what they count.
        _setUps.RunHereUnlessBegun();
        if (!_setUps.InBackground)
        {
            CountSetUpFailures();
        }
    }

    private void WarmUp(CycleContext prepared)
    {
        try
        {
            (_discovery as IDiscoveryWarmUp)?.WarmUp();
        }
        catch (Exception error)
        {
            CountFailure(_discoveryHealth!, error);
        }

        var context = new CycleContext(prepared.Domains, prepared.Timestamp, _log, prepared.CancellationToken) { Shared = _shared, ItemErrors = _itemErrors };
        for (var i = 0; i < _sources.Length; i++)
        {
            if (_sources[i] is not IWarmUpSource warming)
            {
                continue;
            }

            try
            {
                _itemErrors.Clear();
                warming.WarmUp(context);
                CountItemErrors(i);
            }
            catch (Exception error)
            {
                CountFailure(_sourceHealth[i], error);
            }
        }
    }

    // The source wrote what it could; each part it could not read counts as an error, and is logged here unless the
    // source summarised it in its own log line.
    private void CountItemErrors(int source)
    {
        if (_itemErrors.Count == 0)
        {
            _sourceHealth[source].Succeeded(_log);
            return;
        }

        var unlogged = _itemErrors.Find(error => !error.LoggedBySource);
        if (unlogged is null)
        {
            _sourceHealth[source].Succeeded(_log);
        }
        else
        {
            _sourceHealth[source].Failed(unlogged, _log);
        }

        _errors[_sourceHealth[source].Name] += _itemErrors.Count;
    }

    /// <summary>When the last <see cref="Prepare"/> had the counters open: the first delay counts from here.</summary>
    public long CountersOpenedAtMs { get; private set; }

    /// <summary>
    /// Waits for set-ups still running in the background, from any thread (before the sources are disposed); their
    /// failures are counted by the next <see cref="Collect"/>.
    /// </summary>
    public void WaitForSetUps() => _setUps.Join();

    private void CountSetUpFailures()
    {
        foreach (var (index, error) in _setUps.Finish())
        {
            CountFailure(_sourceHealth[index], error);
        }
    }

    /// <summary>Runs one cycle and returns its metrics (the same, reset, set every time).</summary>
    /// <param name="cancellationToken">Handed to the sources to abort early; the loop passes none so that a stop finishes the cycle.</param>
    public MetricSet Collect(CancellationToken cancellationToken)
    {
        CountSetUpFailures(); // before the cycle's clock starts: waiting for a set-up is not the cycle's time
        var startedTicks = Stopwatch.GetTimestamp();
        var timestamp = _clock.UtcNow;
        _metrics.Reset();

        _shared.BeginCycle();
        _timed = _log.IsEnabled(LogLevel.Debug);
        var mark = _timed ? VmProbe.Native.ThreadCpuTime.Nanoseconds() : 0;
        var context = new CycleContext(Discover(cancellationToken), timestamp, _log, cancellationToken) { Shared = _shared, ItemErrors = _itemErrors };
        mark = TimePart(0, mark);
        for (var i = 0; i < _sources.Length; i++)
        {
            var readAt = _clock.UtcNow;
            try
            {
                _itemErrors.Clear();
                _sources[i].Collect(context, _metrics);
                CountItemErrors(i);
            }
            catch (Exception error)
            {
                CountFailure(_sourceHealth[i], error);
            }

            _metrics.StampReadTime(readAt);
            mark = TimePart(i + 1, mark);
        }

        LastDuration = Stopwatch.GetElapsedTime(startedTicks);
        AddProbeMetrics(timestamp, LastDuration, context.Domains.Count);
        TimePart(_partCpuNs.Length - 1, mark);
        return _metrics;
    }

    private long TimePart(int part, long since)
    {
        if (!_timed)
        {
            return 0;
        }

        var now = VmProbe.Native.ThreadCpuTime.Nanoseconds();
        _partCpuNs[part] = now - since;
        return now;
    }

    /// <summary>The loop reports each export: a failure is logged like a source's and counted under <see cref="ExportSourceName"/>.</summary>
    public void ReportExport(Exception? error)
    {
        if (error is null)
        {
            _exportHealth.Succeeded(_log);
        }
        else
        {
            CountFailure(_exportHealth, error);
        }
    }

    private IReadOnlyList<VmDomain> Discover(CancellationToken cancellationToken)
    {
        IReadOnlyList<VmDomain> domains = Array.Empty<VmDomain>();
        if (_discovery is not null)
        {
            try
            {
                domains = _discovery.Discover(_log, cancellationToken) ?? Array.Empty<VmDomain>();
                _discoveryHealth!.Succeeded(_log);
                if ((_discovery as IPartlyFailing)?.TakeFailure() is not null)
                {
                    // Domains came from the fallback; the discovery logged the switch itself, the count goes here.
                    _errors[_discoveryHealth.Name]++;
                }
            }
            catch (Exception error)
            {
                CountFailure(_discoveryHealth!, error);
            }
        }

        LastDomains = domains;
        return domains;
    }

    private void CountFailure(ComponentHealth health, Exception error)
    {
        health.Failed(error, _log);
        _errors[health.Name]++;
    }

    private void RegisterErrorLabel(string label)
    {
        if (_errors.TryAdd(label, 0))
        {
            _errorLabels.Add(label);
        }
    }

    private void AddProbeMetrics(DateTimeOffset timestamp, TimeSpan duration, int domainCount)
    {
        _metrics.Family(ProbeFamilies.Info).Add(1, _versionLabel);

        var errors = _metrics.Family(ProbeFamilies.Errors);
        for (var i = 0; i < _errorLabels.Count; i++)
        {
            errors.Add(_errors[_errorLabels[i]], _errorLabelValues[i]);
        }

        _metrics.Family(ProbeFamilies.LastCycleTimestamp).Add(timestamp.ToUnixTimeMilliseconds() / 1000.0);
        _metrics.Family(ProbeFamilies.CycleDuration).Add(duration.TotalSeconds);
        _metrics.Family(ProbeFamilies.Interval).Add(_intervalSeconds);
        _metrics.Family(ProbeFamilies.Domains).Add(domainCount);
        if (_discovery is IDiscoveryConflicts conflicts)
        {
            _metrics.Family(ProbeFamilies.DiscoveryConflicts).Add(conflicts.Conflicts);
        }

        var openFds = CountOpenFds();
        if (openFds >= 0)
        {
            _metrics.Family(ProbeFamilies.OpenFds).Add(openFds);
        }
    }

    // getdents64 only: an fd-listing that stats every entry costs more than the rest of the cycle at thousands of fds.
    private static int CountOpenFds() => VmProbe.Native.ProcessFds.CountOpen();
}
