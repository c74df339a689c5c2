using VmProbe.Composition;
using Xunit;

namespace VmProbe.Tests.Probe;

/// <summary>
/// Where the log takes lines from any thread, the sources' slow set-ups (eBPF loads) run on a thread of their own from
/// before the first discovery, and the first collection waits for them; the first delay counts from when the counters
/// opened, however long the discovery took.
/// </summary>
public class BackgroundSetUpTests
{
    [Fact]
    public void TheSetUpRunsBesideTheFirstDiscovery_AndTheFirstCollectWaitsForIt()
    {
        using var setUp = new BlockingSetUpSource("bpf");
        var discovery = new WaitingDiscovery(setUp.Started);
        var perf = new PreparedKnownSource("perf", new ManualProbeClock());
        var cycle = new ProbeCycle(discovery, new IMetricSource[] { setUp, perf }, new ConcurrentLog(), 200);

        cycle.Prepare(CancellationToken.None);
        Assert.True(discovery.SawTheSetUpRunning, "the set-up had not begun while the discovery ran");
        Assert.NotEqual(Environment.CurrentManagedThreadId, setUp.SetUpThread);

        setUp.Release.Set();
        cycle.Collect(CancellationToken.None);
        Assert.True(setUp.CollectedAfterSetUp, "the first Collect did not wait for the set-up");
        Assert.Equal(0, cycle.ErrorCount("bpf"));
    }

    [Fact]
    public void ALogForOneThreadKeepsTheSetUpOnTheCyclesThread()
    {
        using var setUp = new BlockingSetUpSource("bpf");
        setUp.Release.Set();
        var cycle = new ProbeCycle(new WaitingDiscovery(setUp.Started, waitMs: 0), new IMetricSource[] { setUp }, NullProbeLog.Instance, 200);

        cycle.Prepare(CancellationToken.None);

        Assert.Equal(Environment.CurrentManagedThreadId, setUp.SetUpThread);
    }

    [Fact]
    public void ABackgroundFailureIsCountedByTheFirstCollect_WaitForSetUpsOnlyEndsTheThread()
    {
        using var failing = new BlockingSetUpSource("bpf") { Fails = true };
        failing.Release.Set();
        var cycle = new ProbeCycle(new WaitingDiscovery(failing.Started), new IMetricSource[] { failing }, new ConcurrentLog(), 200);

        cycle.Prepare(CancellationToken.None);
        cycle.WaitForSetUps(); // from any thread (ProbeRun.Dispose): joins, counts nothing
        Assert.False(failing.Running);
        Assert.Equal(0, cycle.ErrorCount("bpf"));
        cycle.Collect(CancellationToken.None);
        Assert.Equal(1, cycle.ErrorCount("bpf"));
        cycle.Collect(CancellationToken.None);
        Assert.Equal(1, cycle.ErrorCount("bpf")); // counted once
    }

    [Fact]
    public async Task TheFirstDelayCountsFromWhenTheCountersOpened()
    {
        var clock = new ManualProbeClock { MonotonicMilliseconds = 1_000 };
        var perf = new PreparedKnownSource("perf", clock);
        var slowDiscovery = new WaitingDiscovery(new ManualResetEventSlim(true), waitMs: 0) { Advance = () => clock.MonotonicMilliseconds += 500 };
        var loop = new ProbeLoop(new ProbeCycle(slowDiscovery, new IMetricSource[] { perf }, NullProbeLog.Instance, 200, clock), new SnapshotSink(), NullProbeLog.Instance, 200, clock);

        await loop.RunNextAsync(CancellationToken.None);

        Assert.Equal(new long[] { 1_500 }, perf.PrepareTimes);
        Assert.Equal(1_700, perf.CollectTimes[0]); // not 1_200: the counters would have counted for no time at all
    }

    [Fact]
    public async Task WarmUpsRunInsideTheFirstDelayAfterTheCountersOpened_AFailureCountedAgainstItsSource()
    {
        var clock = new ManualProbeClock { MonotonicMilliseconds = 1_000 };
        var perf = new PreparedKnownSource("perf", clock);
        var kvm = new WarmingSource("kvm", clock);
        var failing = new WarmingSource("broken", clock) { FailWith = new InvalidOperationException("no fds") };
        var partly = new WarmingSource("partly", clock) { ItemError = new VmProbeException("one domain's fds", "kvm_test,EPERM", ProbeErrorKind.PermissionDenied) };
        var discovery = new WaitingDiscovery(new ManualResetEventSlim(true), waitMs: 0) { Advance = () => clock.MonotonicMilliseconds += 500 };
        var cycle = new ProbeCycle(discovery, new IMetricSource[] { kvm, perf, failing, partly }, NullProbeLog.Instance, 200, clock);
        var loop = new ProbeLoop(cycle, new SnapshotSink(), NullProbeLog.Instance, 200, clock);

        await loop.RunNextAsync(CancellationToken.None);

        Assert.Equal(new long[] { 1_500 }, perf.PrepareTimes);
        Assert.Equal(new long[] { 1_500 }, kvm.WarmUpTimes); // after perf's Prepare, although listed before it
        Assert.Equal(1_700, kvm.CollectTimes[0]); // its 50 ms went into the delay, not after it
        Assert.Equal(1, cycle.ErrorCount("broken"));
        Assert.Equal(1, cycle.ErrorCount("partly")); // a part it could not open counts as in a collection
        Assert.Equal(0, cycle.ErrorCount("kvm"));
    }

    [Fact]
    public async Task TheDiscoverysWarmUpRunsOnceInsideTheFirstDelay_AfterThePreparesAndBeforeTheSourcesWarmUps()
    {
        var clock = new ManualProbeClock { MonotonicMilliseconds = 1_000 };
        var perf = new PreparedKnownSource("perf", clock);
        var kvm = new WarmingSource("kvm", clock);
        var discovery = new WarmingDiscovery(clock, perf);
        var loop = new ProbeLoop(new ProbeCycle(discovery, new IMetricSource[] { kvm, perf }, NullProbeLog.Instance, 200, clock), new SnapshotSink(), NullProbeLog.Instance, 200, clock);

        await loop.RunNextAsync(CancellationToken.None);
        await loop.RunNextAsync(CancellationToken.None);

        Assert.Equal(new long[] { 1_000 }, discovery.WarmUpTimes); // once, where the counters opened
        Assert.Equal(new[] { 1 }, discovery.PreparesSeenAtWarmUp); // perf was prepared before it
        Assert.Equal(new long[] { 1_030 }, kvm.WarmUpTimes); // after the discovery's 30 ms
        Assert.Equal(1_200, perf.CollectTimes[0]); // both inside the first delay
        Assert.Equal(3, discovery.Discoveries); // Prepare's and one per collection: the warm-up is no discovery
    }

    [Fact]
    public void AFailingDiscoveryWarmUpIsCountedAgainstTheDiscovery_TheSourcesStillWarmUp()
    {
        var clock = new ManualProbeClock();
        var perf = new PreparedKnownSource("perf", clock);
        var kvm = new WarmingSource("kvm", clock);
        var discovery = new WarmingDiscovery(clock, perf) { FailWith = new InvalidOperationException("comm unreadable") };
        var cycle = new ProbeCycle(discovery, new IMetricSource[] { kvm, perf }, NullProbeLog.Instance, 200, clock);

        cycle.Prepare(CancellationToken.None);

        Assert.Equal(1, cycle.ErrorCount("warming"));
        Assert.Single(kvm.WarmUpTimes);
        Assert.Equal(0, cycle.ErrorCount("kvm"));
    }

    private sealed class WarmingDiscovery : IDomainDiscovery, IDiscoveryWarmUp
    {
        private readonly ManualProbeClock _clock;
        private readonly PreparedKnownSource _prepared;

        public WarmingDiscovery(ManualProbeClock clock, PreparedKnownSource prepared)
        {
            _clock = clock;
            _prepared = prepared;
        }

        public string Name => "warming";

        public int Discoveries { get; private set; }

        public List<long> WarmUpTimes { get; } = new();

        public List<int> PreparesSeenAtWarmUp { get; } = new();

        public Exception? FailWith { get; init; }

        public IReadOnlyList<VmDomain> Discover(IProbeLog log, CancellationToken cancellationToken)
        {
            Discoveries++;
            return Array.Empty<VmDomain>();
        }

        public void WarmUp()
        {
            WarmUpTimes.Add(_clock.MonotonicMilliseconds);
            PreparesSeenAtWarmUp.Add(_prepared.PrepareTimes.Count);
            _clock.MonotonicMilliseconds += 30;
            if (FailWith is { } error)
            {
                throw error;
            }
        }
    }

    private sealed class WarmingSource : KnownSource, IWarmUpSource
    {
        private readonly ManualProbeClock _clock;

        public WarmingSource(string name, ManualProbeClock clock)
            : base(name, clock)
        {
            _clock = clock;
        }

        public List<long> WarmUpTimes { get; } = new();

        public VmProbeException? ItemError { get; init; }

        public void WarmUp(CycleContext context)
        {
            WarmUpTimes.Add(_clock.MonotonicMilliseconds);
            _clock.MonotonicMilliseconds += 50;
            if (ItemError is not null)
            {
                context.ItemErrors?.Add(ItemError);
            }

            if (FailWith is { } error)
            {
                FailWith = null; // the collection itself works
                throw error;
            }
        }
    }

    private sealed class WaitingDiscovery : IDomainDiscovery
    {
        private readonly ManualResetEventSlim _setUpStarted;
        private readonly int _waitMs;

        public WaitingDiscovery(ManualResetEventSlim setUpStarted, int waitMs = 10_000)
        {
            _setUpStarted = setUpStarted;
            _waitMs = waitMs;
        }

        public string Name => "test";

        public bool SawTheSetUpRunning { get; private set; }

        /// <summary>Run by the first discovery only (the slow one).</summary>
        public Action? Advance { get; set; }

        public IReadOnlyList<VmDomain> Discover(IProbeLog log, CancellationToken cancellationToken)
        {
            SawTheSetUpRunning |= _setUpStarted.Wait(_waitMs);
            Advance?.Invoke();
            Advance = null;
            return Array.Empty<VmDomain>();
        }
    }

    private sealed class BlockingSetUpSource : KnownSource, IEarlySetup, IDisposable
    {
        private volatile bool _done;

        public BlockingSetUpSource(string name)
            : base(name)
        {
        }

        public ManualResetEventSlim Started { get; } = new();

        public ManualResetEventSlim Release { get; } = new();

        public bool Fails { get; init; }

        public int SetUpThread { get; private set; }

        public volatile bool Running;

        public bool CollectedAfterSetUp { get; private set; }

        public void SetUp(IProbeLog log)
        {
            if (_done)
            {
                return;
            }

            Running = true;
            SetUpThread = Environment.CurrentManagedThreadId;
            Started.Set();
            Release.Wait(10_000);
            Thread.Sleep(50); // a Collect that did not wait would run inside this
            Running = false;
            if (Fails)
            {
                throw new VmProbeException("the load broke", "setup,broken", ProbeErrorKind.Unknown);
            }

            _done = true;
        }

        public override void Collect(CycleContext context, MetricSet metrics)
        {
            CollectedAfterSetUp = _done && !Running;
            base.Collect(context, metrics);
        }

        // Re-implemented so that `using` releases the events (KnownSource.Dispose is not virtual).
        void IDisposable.Dispose()
        {
            Started.Dispose();
            Release.Dispose();
        }
    }
}
