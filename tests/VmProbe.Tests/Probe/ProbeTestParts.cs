using VmProbe.Prometheus;

namespace VmProbe.Tests.Probe;

/// <summary>A deterministic clock: waits move time forward to their target at once and are recorded.</summary>
internal sealed class ManualProbeClock : IProbeClock
{
    public long MonotonicMilliseconds { get; set; }

    public DateTimeOffset WallStart { get; init; } = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    public DateTimeOffset UtcNow => WallStart.AddMilliseconds(MonotonicMilliseconds);

    public List<long> Waits { get; } = new();

    public Task<bool> DelayUntilAsync(long monotonicMilliseconds, CancellationToken cancellationToken)
    {
        Waits.Add(monotonicMilliseconds);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromResult(false);
        }

        MonotonicMilliseconds = Math.Max(MonotonicMilliseconds, monotonicMilliseconds);
        return Task.FromResult(true);
    }
}

/// <summary>A source that adds one known series per domain (or one without domains) and can be told to fail or to take time.</summary>
internal class KnownSource : IMetricSource
{
    private readonly ManualProbeClock? _clock;

    public KnownSource(string name, ManualProbeClock? clock = null)
    {
        Name = name;
        _clock = clock;
    }

    public string Name { get; }

    /// <summary>When set, Collect throws it instead of adding its series.</summary>
    public Exception? FailWith { get; set; }

    /// <summary>Milliseconds each Collect advances the clock by, per call index (0-based); missing entries take 0.</summary>
    public Dictionary<int, long> DurationByCall { get; } = new();

    /// <summary>Runs inside Collect, after the series was added (for example to request a stop mid-cycle).</summary>
    public Action<int>? DuringCollect { get; set; }

    public List<long> CollectTimes { get; } = new();

    public List<IReadOnlyList<VmDomain>> SeenDomains { get; } = new();

    public bool Disposed { get; private set; }

    public virtual void Collect(CycleContext context, MetricSet metrics)
    {
        var call = CollectTimes.Count;
        CollectTimes.Add(_clock?.MonotonicMilliseconds ?? 0);
        SeenDomains.Add(context.Domains);
        if (_clock is not null && DurationByCall.TryGetValue(call, out var duration))
        {
            _clock.MonotonicMilliseconds += duration;
        }

        if (FailWith is not null)
        {
            throw FailWith;
        }

        var family = metrics.Family($"{Name}_value", MetricType.Gauge, $"Known value of {Name}.", "domain");
        if (context.Domains.Count == 0)
        {
            family.Add(call + 1, "none");
        }

        foreach (var domain in context.Domains)
        {
            family.Add(call + 1, domain.Name);
        }

        DuringCollect?.Invoke(call);
    }

    public void Dispose() => Disposed = true;
}

/// <summary>A source that must be prepared (like perf): records when Prepare ran.</summary>
internal sealed class PreparedKnownSource : KnownSource, IPreparedSource
{
    public PreparedKnownSource(string name, ManualProbeClock clock)
        : base(name, clock)
    {
        Clock = clock;
    }

    public ManualProbeClock Clock { get; }

    public List<long> PrepareTimes { get; } = new();

    public void Prepare(CycleContext context) => PrepareTimes.Add(Clock.MonotonicMilliseconds);

    public override void Collect(CycleContext context, MetricSet metrics)
    {
        if (PrepareTimes.Count == 0)
        {
            throw new InvalidOperationException("collected before being prepared");
        }

        base.Collect(context, metrics);
    }
}

internal sealed class ListDiscovery : IDomainDiscovery
{
    public string Name => "libvirt";

    public List<VmDomain> Domains { get; } = new();

    public Exception? FailWith { get; set; }

    public IReadOnlyList<VmDomain> Discover(IProbeLog log, CancellationToken cancellationToken) =>
        FailWith is null ? Domains.ToArray() : throw FailWith;
}

/// <summary>Keeps a copy of every exported set (the cycle reuses its set, so the sink must copy, as a real writer would render).</summary>
internal sealed class SnapshotSink : ITextfileSink
{
    public string Destination => "memory";

    public List<Dictionary<string, List<(string Labels, double Value)>>> Exports { get; } = new();

    public Exception? FailWith { get; set; }

    public void Export(MetricSet metrics)
    {
        if (FailWith is not null)
        {
            throw FailWith;
        }

        Exports.Add(Snapshot(metrics));
    }

    public static Dictionary<string, List<(string Labels, double Value)>> Snapshot(MetricSet metrics) =>
        metrics.Families.ToDictionary(
            family => family.Name,
            family => family.Samples.Select(sample => (string.Join(",", family.LabelNames.Zip(sample.LabelValues, (n, v) => $"{n}={v}")), sample.Value)).ToList());
}

internal sealed class RecordingLog : IProbeLog
{
    public List<(LogLevel Level, string Message)> Lines { get; } = new();

    public bool IsEnabled(LogLevel level) => true;

    public void Write(LogLevel level, string message)
    {
        lock (Lines)
        {
            Lines.Add((level, message));
        }
    }

    public int Count(LogLevel level, string contains) => Lines.Count(l => l.Level == level && l.Message.Contains(contains, StringComparison.Ordinal));
}

/// <summary>A log that takes lines from any thread (as the runner's does) and drops them.</summary>
internal sealed class ConcurrentLog : IConcurrentProbeLog
{
    public bool IsEnabled(LogLevel level) => false;

    public void Write(LogLevel level, string message)
    {
    }
}
