using VmProbe.Perf;
using VmProbe.Power;
using VmProbe.Procfs;

namespace VmProbe.Composition;

/// <summary>
/// Read-VmPower over the runner's sources, in the runner's order: host and procfs (CPU time), perf counting CPU cycles
/// for the host and each domain (where the PMU has them), then power, whose <see cref="EnergyAttribution"/> divides by
/// cycles when perf shared them for the host and every domain, else by CPU time; all share one <see cref="CycleState"/>
/// as in a cycle. Kept across calls so that energy accumulates and each reading's watts are the increase since the
/// previous one. Calls are serialized.
/// </summary>
public sealed class DomainPowerReader : IDisposable
{
    private static readonly PerfSourceOptions CyclesOnly = new() { Events = new[] { PerfEventCatalog.Parse("cycles") } };

    private readonly IMetricSource[] _sources;
    private readonly CycleState _shared = new();
    private readonly Dictionary<(Guid, string), (double Joules, DateTimeOffset At)> _previous = new();
    private readonly object _gate = new();
    private readonly CallLog _perfLog = new();
    private HashSet<Guid> _listedBefore = new();
    private DateTimeOffset _readBefore;

    /// <param name="root">The proc tree's root (host and procfs; perf lists threads under /proc).</param>
    /// <param name="options">The power source's options (sysfs, powermeter).</param>
    /// <param name="budget">The perf fd budget the cycles counters draw on (the module's); a new one when null.</param>
    public DomainPowerReader(string root = "/", PowerOptions? options = null, PerfFdBudget? budget = null)
    {
        _sources = new IMetricSource[]
        {
            new HostProcfsSource(root),
            new DomainProcfsSource(root, forgetUnlisted: false),
            new PerfMetricsSource(CyclesOnly, _perfLog, budget),
            new PowerSource(options ?? new PowerOptions(), NullProbeLog.Instance),
        };
    }

    /// <summary>Tests: <paramref name="activity"/> stands in for host, procfs and perf (it fills the cycle's <see cref="DomainActivityShare"/>).</summary>
    internal DomainPowerReader(IEnumerable<IMetricSource> activity, PowerSource power) =>
        _sources = activity.Append(power).ToArray();

    /// <summary>The sources read, in order (their names).</summary>
    public IReadOnlyList<string> SourceNames => _sources.Select(s => s.Name).ToArray();

    /// <summary>After a reading on a host without any energy meter or power meter: what it lacks; else null.</summary>
    public string? Lacking => _sources.OfType<PowerSource>().FirstOrDefault()?.WhatIsLacking;

    /// <summary>Whether a reading was taken (so the next one has watts).</summary>
    public bool HasReading { get; private set; }

    public List<VmPowerSample> Read(IReadOnlyList<VmDomain> domains, DateTimeOffset timestamp, ICollection<VmProbeException> errors, IProbeLog log)
    {
        ArgumentNullException.ThrowIfNull(domains);
        var metrics = new MetricSet();
        lock (_gate)
        {
            _shared.BeginCycle();
            var context = new CycleContext(domains, timestamp, log, CancellationToken.None) { Shared = _shared, ItemErrors = errors };
            _perfLog.Target = log ?? NullProbeLog.Instance;
            try
            {
                foreach (var source in _sources)
                {
                    source.Collect(context, metrics);
                }
            }
            finally
            {
                _perfLog.Target = NullProbeLog.Instance; // not the finished command's log
            }

            HasReading = true;
            return Samples(metrics, domains, timestamp);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var source in _sources)
            {
                source.Dispose();
            }
        }
    }

    private List<VmPowerSample> Samples(MetricSet metrics, IReadOnlyList<VmDomain> domains, DateTimeOffset timestamp)
    {
        var samples = new List<VmPowerSample>();
        if (!metrics.TryGet(PowerFamilies.DomainEnergy.Name, out var energy) || !metrics.TryGet(PowerFamilies.Model.Name, out var info))
        {
            return samples;
        }

        var models = info.Samples.ToDictionary(s => s.LabelValues[1], s => (Model: s.LabelValues[0], Source: s.LabelValues[2], Idle: s.LabelValues[3]), StringComparer.Ordinal);
        foreach (var series in energy.Samples)
        {
            var (name, uuid, zone) = (series.LabelValues[0], Guid.Parse(series.LabelValues[1]), series.LabelValues[2]);
            var (model, source, idle) = models.TryGetValue(zone, out var m) ? m : ("none", "", "unknown");
            double? watts = null;
            TimeSpan? interval = null;
            // A domain listed at the previous reading without energy yet (its first interval) had 0 J then.
            if (!_previous.TryGetValue((uuid, zone), out var previous) && _listedBefore.Contains(uuid))
            {
                previous = (0, _readBefore);
            }

            if (previous.At != default && timestamp > previous.At && series.Value >= previous.Joules)
            {
                interval = timestamp - previous.At;
                watts = (series.Value - previous.Joules) / interval.Value.TotalSeconds;
            }

            _previous[(uuid, zone)] = (series.Value, timestamp);
            samples.Add(new VmPowerSample
            {
                Domain = name, Uuid = uuid, Zone = zone, Model = model, Source = source, Idle = idle,
                EnergyJoules = series.Value, Watts = watts, Interval = interval, Timestamp = timestamp,
            });
        }

        // A listed domain the model has given nothing yet (its first interval, or no activity measured) reads 0 J.
        foreach (var domain in domains.DistinctBy(d => d.Uuid))
        {
            foreach (var (zone, (model, source, idle)) in models)
            {
                if (!_previous.ContainsKey((domain.Uuid, zone)) || _previous[(domain.Uuid, zone)].At != timestamp)
                {
                    if (energy.Samples.Any(e => e.LabelValues[1] == domain.Uuid.ToString() && e.LabelValues[2] == zone))
                    {
                        continue;
                    }

                    _previous[(domain.Uuid, zone)] = (0, timestamp);
                    samples.Add(new VmPowerSample { Domain = domain.Name, Uuid = domain.Uuid, Zone = zone, Model = model, Source = source, Idle = idle, Timestamp = timestamp });
                }
            }
        }

        var listed = domains.Select(d => d.Uuid).ToHashSet();
        foreach (var key in _previous.Keys.Where(k => !listed.Contains(k.Item1)).ToList())
        {
            _previous.Remove(key);
        }

        (_listedBefore, _readBefore) = (listed, timestamp);

        return samples;
    }

    /// <summary>
    /// The perf source's log, pointed at each call's log. Its warnings (no cycles event on this PMU, perf refused
    /// to a non-root user) become verbose lines: the user asked for power, and the Model property says what was used.
    /// </summary>
    private sealed class CallLog : IProbeLog
    {
        public IProbeLog Target { get; set; } = NullProbeLog.Instance;

        public bool IsEnabled(LogLevel level) => Target.IsEnabled(Demote(level));

        public void Write(LogLevel level, string message) =>
            Target.Write(Demote(level), "power (cycles model): " + message);

        private static LogLevel Demote(LogLevel level) => level > LogLevel.Info ? LogLevel.Info : level;
    }
}
