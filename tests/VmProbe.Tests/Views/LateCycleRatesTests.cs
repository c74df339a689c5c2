using VmProbe.Composition;
using VmProbe.Libvirt;
using VmProbe.Procfs;
using VmProbe.Tests.Probe;
using VmProbe.Views;
using Xunit;

namespace VmProbe.Tests.Views;

/// <summary>
/// Issue 15 review: a cycle whose discovery (or an earlier source) runs late reads its counters later than the cycle
/// started; the rates must be over the time between the readings, or a VM spinning at one core reads 1.5 then 0.5.
/// </summary>
public class LateCycleRatesTests
{
    [Fact]
    public void ASpinningVmReadsOneCoreWhenOneCyclesDiscoveryStalls()
    {
        var clock = new ManualProbeClock();
        var discovery = new StallingDiscovery(clock) { StallMsByCall = { [1] = 500 } };
        var procfs = new ClockCounterSource("procfs", clock, DomainProcfsFamilies.SchedRunSeconds, perSecond: 1.0);
        // A source after procfs that itself stalls in the second cycle: the one after it reads later still.
        var libvirt = new ClockCounterSource("libvirt", clock, LibvirtFamilies.BlockReadBytes, perSecond: 4096, "vda") { StallMsByCall = { [1] = 300 } };
        var disk = new ClockCounterSource("disk", clock, LibvirtFamilies.BlockWriteBytes, perSecond: 1024, "vda");
        var cycle = new ProbeCycle(discovery, new IMetricSource[] { procfs, libvirt, disk }, new RecordingLog(), 1000, clock);
        var builder = new ViewFrameBuilder();

        var cores = new List<double?>();
        var writes = new List<double?>();
        for (var i = 0; i < 4; i++)
        {
            clock.MonotonicMilliseconds = i * 1000;
            var row = builder.Build(cycle.Collect(CancellationToken.None)).Vms.Single();
            cores.Add(row.CpuCores);
            writes.Add(row.DiskWriteBytesPerSecond);
            if (i > 0)
            {
                Assert.Equal(4096, row.DiskReadBytesPerSecond!.Value, 2);
            }
        }

        Assert.Null(cores[0]);
        Assert.All(cores.Skip(1), c => Assert.Equal(1.0, c!.Value, 6));
        Assert.All(writes.Skip(1), w => Assert.Equal(1024, w!.Value, 2));
    }

    private sealed class StallingDiscovery : IDomainDiscovery
    {
        private readonly ManualProbeClock _clock;
        private int _calls;

        public StallingDiscovery(ManualProbeClock clock) => _clock = clock;

        public string Name => "libvirt";

        public Dictionary<int, long> StallMsByCall { get; } = new();

        public IReadOnlyList<VmDomain> Discover(IProbeLog log, CancellationToken cancellationToken)
        {
            _clock.MonotonicMilliseconds += StallMsByCall.GetValueOrDefault(_calls++);
            return Array.Empty<VmDomain>();
        }
    }

    /// <summary>A counter of domain "spin" that grows by <c>perSecond</c> per second of the clock: its true rate is known.</summary>
    private sealed class ClockCounterSource : IMetricSource
    {
        private readonly ManualProbeClock _clock;
        private readonly MetricDesc _family;
        private readonly double _perSecond;
        private readonly string[] _extra;
        private int _calls;

        public ClockCounterSource(string name, ManualProbeClock clock, MetricDesc family, double perSecond, params string[] extra)
        {
            Name = name;
            _clock = clock;
            _family = family;
            _perSecond = perSecond;
            _extra = extra;
        }

        public string Name { get; }

        public Dictionary<int, long> StallMsByCall { get; } = new();

        public void Collect(CycleContext context, MetricSet metrics)
        {
            var value = _clock.MonotonicMilliseconds / 1000.0 * _perSecond;
            metrics.Family(_family).Add(value, new[] { "spin", ViewFixtures.Uuid }.Concat(_extra).ToArray());
            _clock.MonotonicMilliseconds += StallMsByCall.GetValueOrDefault(_calls++);
        }

        public void Dispose()
        {
        }
    }
}
