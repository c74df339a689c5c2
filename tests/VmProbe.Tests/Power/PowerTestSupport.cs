using VmProbe.Power;
using VmProbe.Tests.Prometheus;

namespace VmProbe.Tests.Power;

/// <summary>Runs the power source the way a cycle does (one <see cref="CycleState"/>, the activity shared before it) and reads series back.</summary>
internal sealed class PowerHarness : IDisposable
{
    private readonly CycleState _shared = new();
    private static readonly DateTimeOffset Epoch = new(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);
    private DateTimeOffset _now = Epoch;
    private double _readDelay;

    public PowerHarness(PowerFixture fixture, Func<string, string>? read = null, bool fakePmu = true, string? powermeter = null)
    {
        Source = new PowerSource(new PowerOptions { Sysfs = fixture.Root, Powermeter = powermeter }, Log, read, fakePmu ? fixture.OpenPmu : null, () => ReadAt);
    }

    public PowerSource Source { get; }

    /// <summary>This cycle's read delay (see <see cref="Cycle"/>).</summary>
    public double ReadDelay => _readDelay;

    /// <summary>When the meters are read this cycle, in seconds since the first cycle's start: the cycle's start plus its read delay.</summary>
    public double ReadAt => (_now - Epoch).TotalSeconds + _readDelay;

    public ListLog Log { get; } = new();

    public List<VmProbeException> Errors { get; } = new();

    public static VmDomain Domain(string name, int n) => new() { Name = name, Uuid = new Guid(n, 0, 0, new byte[8]), Pid = 1000 + n };

    /// <summary>
    /// One cycle <paramref name="seconds"/> after the previous; <paramref name="activity"/> fills what host, procfs and
    /// perf would share; the meters are read <paramref name="readDelay"/> seconds after the cycle's start (a slow cycle).
    /// </summary>
    public MetricSet Cycle(IReadOnlyList<VmDomain> domains, double seconds = 5, Action<DomainActivityShare>? activity = null, double readDelay = 0)
    {
        _now = _now.AddSeconds(seconds);
        _readDelay = readDelay;
        _shared.BeginCycle();
        activity?.Invoke(_shared.Get<DomainActivityShare>());
        var metrics = new MetricSet();
        Errors.Clear();
        Source.Collect(new CycleContext(domains, _now, Log, CancellationToken.None) { Shared = _shared, ItemErrors = Errors }, metrics);
        return metrics;
    }

    public void Dispose() => Source.Dispose();
}

internal static class MetricSetExtensions
{
    public static double? Value(this MetricSet metrics, MetricDesc desc, params string[] labels)
    {
        if (!metrics.TryGet(desc.Name, out var family))
        {
            return null;
        }

        foreach (var sample in family.Samples)
        {
            if (sample.LabelValues.SequenceEqual(labels))
            {
                return sample.Value;
            }
        }

        return null;
    }

    public static IEnumerable<string[]> Labels(this MetricSet metrics, MetricDesc desc) =>
        metrics.TryGet(desc.Name, out var family) ? family.Samples.Select(s => s.LabelValues) : Enumerable.Empty<string[]>();
}

/// <summary>Stands in for host, procfs and perf: fills the cycle's activity as they would.</summary>
internal sealed class InjectedActivity : IMetricSource
{
    public Action<DomainActivityShare>? Next { get; set; }

    public string Name => "activity";

    public void Collect(CycleContext context, MetricSet metrics) => Next?.Invoke(context.Shared!.Get<DomainActivityShare>());

    public void Dispose()
    {
    }
}
