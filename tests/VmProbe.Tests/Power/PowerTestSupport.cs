using VmProbe.Power;
using VmProbe.Tests.Prometheus;

namespace VmProbe.Tests.Power;

/// <summary>Runs the power source the way a cycle does (one <see cref="CycleState"/>, the activity shared before it) and reads series back.</summary>
internal sealed class PowerHarness : IDisposable
{
    private readonly CycleState _shared = new();
    private DateTimeOffset _now = new(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);

    public PowerHarness(PowerFixture fixture, Func<string, string>? read = null, bool fakePmu = true, string? powermeter = null)
    {
        Source = new PowerSource(new PowerOptions { Sysfs = fixture.Root, Powermeter = powermeter }, Log, read, fakePmu ? fixture.OpenPmu : null);
    }

    public PowerSource Source { get; }

    public ListLog Log { get; } = new();

    public List<VmProbeException> Errors { get; } = new();

    public static VmDomain Domain(string name, int n) => new() { Name = name, Uuid = new Guid(n, 0, 0, new byte[8]), Pid = 1000 + n };

    /// <summary>One cycle <paramref name="seconds"/> after the previous; <paramref name="activity"/> fills what host, procfs and perf would share.</summary>
    public MetricSet Cycle(IReadOnlyList<VmDomain> domains, double seconds = 5, Action<DomainActivityShare>? activity = null)
    {
        _now = _now.AddSeconds(seconds);
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
