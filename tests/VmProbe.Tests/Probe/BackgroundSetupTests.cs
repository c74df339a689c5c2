using VmProbe.Composition;
using Xunit;

namespace VmProbe.Tests.Probe;

/// <summary>
/// The cycle begins its sources' slow set-ups (eBPF loads) once, before its first discovery, so that they run beside the
/// perf opens and the first delay instead of inside the first collection.
/// </summary>
public class BackgroundSetupTests
{
    [Fact]
    public async Task SetupsBeginOnceBeforeTheFirstDiscoveryOfPrepare()
    {
        var events = new List<string>();
        var discovery = new RecordingDiscovery(events);
        var clock = new ManualProbeClock();
        var setup = new SetupSource(events);
        var prepared = new PreparedKnownSource("perf", clock);
        using var run = ProbeRun.FromParts(discovery, new IMetricSource[] { setup, prepared }, new SnapshotSink(), new RecordingLog(), 1000, clock);

        await run.Loop.RunNextAsync(CancellationToken.None);
        await run.Loop.RunNextAsync(CancellationToken.None);

        // Prepare's discovery, then the two collections' discoveries: the set-up began before the first of them, once.
        Assert.Equal(new[] { "setup", "discover", "discover", "collect", "discover", "collect" }, events);
    }

    [Fact]
    public void WithoutPrepareTheFirstCollectBeginsTheSetups()
    {
        var events = new List<string>();
        var cycle = new ProbeCycle(new RecordingDiscovery(events), new IMetricSource[] { new SetupSource(events) }, new RecordingLog(), 1000);

        cycle.Collect(CancellationToken.None);
        cycle.Collect(CancellationToken.None);

        Assert.Equal(new[] { "setup", "discover", "collect", "discover", "collect" }, events);
    }

    private sealed class SetupSource : IBackgroundSetup
    {
        private readonly List<string> _events;

        public SetupSource(List<string> events) => _events = events;

        public string Name => "kvmexits";

        public void BeginSetup() => _events.Add("setup");

        public void Collect(CycleContext context, MetricSet metrics) => _events.Add("collect");

        public void Dispose()
        {
        }
    }

    private sealed class RecordingDiscovery : IDomainDiscovery
    {
        private readonly List<string> _events;

        public RecordingDiscovery(List<string> events) => _events = events;

        public string Name => "process";

        public IReadOnlyList<VmDomain> Discover(IProbeLog log, CancellationToken cancellationToken)
        {
            _events.Add("discover");
            return Array.Empty<VmDomain>();
        }
    }
}
