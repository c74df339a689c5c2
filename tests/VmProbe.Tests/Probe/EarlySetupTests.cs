using VmProbe.Composition;
using Xunit;

namespace VmProbe.Tests.Probe;

/// <summary>
/// A slow set-up (eBPF loads) runs while the loop prepares the first interval, after the prepared sources opened their
/// counters and before the first delay's wait, so that it overlaps that wait; without a prepared source it waits for
/// the source's first Collect.
/// </summary>
public class EarlySetupTests
{
    [Fact]
    public async Task TheSetUpRunsOnceAfterTheCountersOpenAndBeforeTheFirstWait()
    {
        var clock = new ManualProbeClock { MonotonicMilliseconds = 1_000 };
        var order = new List<string>();
        var perf = new PreparedKnownSource("perf", clock);
        var slow = new SlowSetUpSource("slow", clock, order, setUpMs: 150);
        var loop = new ProbeLoop(new ProbeCycle(null, new IMetricSource[] { slow, perf }, NullProbeLog.Instance, 200, clock), new SnapshotSink(), NullProbeLog.Instance, 200, clock);

        await loop.RunNextAsync(CancellationToken.None);
        await loop.RunNextAsync(CancellationToken.None);

        Assert.Equal(new[] { "setup at 1000", "collect at 1200", "collect at 1400" }, order);
        Assert.Equal(new long[] { 1_000 }, perf.PrepareTimes); // opened before the set-up, though listed after it
        Assert.Equal(1_200, clock.Waits[0]); // the first wait still ends one delay after the start: the set-up's 150 ms were inside it
    }

    [Fact]
    public async Task WithoutAPreparedSourceTheFirstCollectSetsUp()
    {
        var clock = new ManualProbeClock { MonotonicMilliseconds = 1_000 };
        var order = new List<string>();
        var slow = new SlowSetUpSource("slow", clock, order, setUpMs: 0);
        var loop = new ProbeLoop(new ProbeCycle(null, new IMetricSource[] { slow }, NullProbeLog.Instance, 200, clock), new SnapshotSink(), NullProbeLog.Instance, 200, clock);

        await loop.RunNextAsync(CancellationToken.None);

        Assert.Equal(new[] { "setup at 1000", "collect at 1000" }, order); // inside the first Collect: no prepare step ran
        Assert.True(slow.SetUpDone);
    }

    [Fact]
    public async Task ASetUpThatThrowsIsCountedAsThatSourcesErrorAndTheProbeGoesOn()
    {
        var clock = new ManualProbeClock { MonotonicMilliseconds = 1_000 };
        var order = new List<string>();
        var perf = new PreparedKnownSource("perf", clock);
        var slow = new SlowSetUpSource("slow", clock, order, setUpMs: 0) { SetUpFails = true };
        var cycle = new ProbeCycle(null, new IMetricSource[] { slow, perf }, NullProbeLog.Instance, 200, clock);
        var loop = new ProbeLoop(cycle, new SnapshotSink(), NullProbeLog.Instance, 200, clock);

        var outcome = await loop.RunNextAsync(CancellationToken.None);

        Assert.NotNull(outcome);
        Assert.Equal(1, cycle.ErrorCount("slow"));
        Assert.Single(perf.CollectTimes);
    }

    private sealed class SlowSetUpSource : KnownSource, IEarlySetup
    {
        private readonly ManualProbeClock _clock;
        private readonly List<string> _order;
        private readonly long _setUpMs;

        public SlowSetUpSource(string name, ManualProbeClock clock, List<string> order, long setUpMs)
            : base(name, clock)
        {
            _clock = clock;
            _order = order;
            _setUpMs = setUpMs;
        }

        public bool SetUpDone { get; private set; }

        public bool SetUpFails { get; init; }

        public void SetUp(IProbeLog log)
        {
            if (SetUpDone)
            {
                return;
            }

            if (SetUpFails)
            {
                throw new VmProbeException("the set-up broke", "setup,broken", ProbeErrorKind.Unknown);
            }

            SetUpDone = true;
            _order.Add($"setup at {_clock.MonotonicMilliseconds}");
            _clock.MonotonicMilliseconds += _setUpMs;
        }

        public override void Collect(CycleContext context, MetricSet metrics)
        {
            if (!SetUpFails)
            {
                SetUp(context.Log);
            }

            _order.Add($"collect at {_clock.MonotonicMilliseconds}");
            base.Collect(context, metrics);
        }
    }
}
