using VmProbe.Composition;
using VmProbe.Power;
using Xunit;

namespace VmProbe.Tests.Power;

/// <summary>
/// The idle estimate (issue 16's review): fitted as the intercept of power against the host's busy fraction, unknown
/// (nothing taken as idle) until the load has varied, measured over the meters' own reading times; and a departing
/// VM's energy moving into the unattributed total.
/// </summary>
public class PowerIdleModelTests
{
    private const int Cpus = 4;
    private static readonly VmDomain A = PowerHarness.Domain("a", 1);
    private static readonly VmDomain B = PowerHarness.Domain("b", 2);
    private static readonly VmDomain C = PowerHarness.Domain("c", 3);

    [Fact]
    public void TheFitRecoversAKnownIdleFromPowerLinearInLoad()
    {
        using var fixture = PowerFixture.Intel();
        using var harness = new PowerHarness(fixture, fakePmu: false);
        var host = new LinearHost(fixture, idle: 30, perBusy: 70);
        var random = new Random(16);
        MetricSet metrics = host.Cycle(harness, 0.2, 0);
        for (var i = 0; i < 12; i++)
        {
            metrics = host.Cycle(harness, 0.1 + (0.8 * random.NextDouble()), 0.5);
        }

        Assert.Equal(30.0, metrics.Value(PowerFamilies.IdlePower, "package-0")!.Value, 6);
        Assert.Equal(1, metrics.Value(PowerFamilies.Model, "cpu_time", "package-0", "powercap", "fitted"));
    }

    [Fact]
    public void UntilTheLoadVariesNothingIsIdleSoANeverIdleHostStillGivesItsVmsTheirShare()
    {
        using var fixture = PowerFixture.Intel();
        using var harness = new PowerHarness(fixture, fakePmu: false);
        var host = new LinearHost(fixture, idle: 30, perBusy: 70);
        host.Cycle(harness, 0.9, 0.5);
        double before = 0;
        for (var i = 0; i < 10; i++)
        {
            var metrics = host.Cycle(harness, 0.9, 0.5); // 93 W, always; a runs half the busy time
            var a = metrics.Value(PowerFamilies.DomainEnergy, "a", A.Uuid.ToString(), "package-0") ?? 0;
            Assert.Equal(93.0 * 5 / 2, a - before, 6);
            before = a;
            Assert.Null(metrics.Value(PowerFamilies.IdlePower, "package-0"));
            Assert.Equal(1, metrics.Value(PowerFamilies.Model, "cpu_time", "package-0", "powercap", "unknown"));
        }
    }

    [Fact]
    public void ASlowCycleDoesNotLowerTheIdleEstimate()
    {
        using var fixture = PowerFixture.Intel();
        using var harness = new PowerHarness(fixture, fakePmu: false);
        var host = new LinearHost(fixture, idle: 30, perBusy: 70);
        var loads = new[] { 0.2, 0.8, 0.3, 0.7, 0.5, 0.9, 0.1, 0.6, 0.4 };
        host.Cycle(harness, 0.5, 0.5);
        MetricSet metrics = new();
        for (var i = 0; i < loads.Length; i++)
        {
            // The fourth cycle reads its meters 3 s late (a libvirt timeout before the power source); the next is on time.
            metrics = host.Cycle(harness, loads[i], 0.5, readDelay: i == 3 ? 3 : 0);
        }

        Assert.Equal(30.0, metrics.Value(PowerFamilies.IdlePower, "package-0")!.Value, 6);
    }

    [Fact]
    public void AOneShotReadOfABusyDomainGivesItWatts()
    {
        // Read-VmPower once: the module primes, waits, reads. One interval cannot tell idle from active power.
        using var fixture = PowerFixture.Intel();
        var activity = new InjectedActivity();
        var clock = 0.0;
        using var reader = new DomainPowerReader(new[] { activity }, new PowerSource(new PowerOptions { Sysfs = fixture.Root }, NullProbeLog.Instance, null, null, () => clock));
        var t0 = new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);
        fixture.SetEnergy("intel-rapl:0", 0);
        activity.Next = s => (s.HostBusySeconds, s.HostTotalSeconds) = (0, 0);
        reader.Read(new[] { A }, t0, new List<VmProbeException>(), NullProbeLog.Instance);
        fixture.SetEnergy("intel-rapl:0", 60_000_000); // 60 W for 1 s, while a spun one of the host's 4 CPUs
        clock = 1;
        activity.Next = s => { (s.HostBusySeconds, s.HostTotalSeconds) = (1, 4); s.SetCpuSeconds(A.Uuid, 1); };
        reader.Read(new[] { A }, t0.AddSeconds(1), new List<VmProbeException>(), NullProbeLog.Instance);
        activity.Next = s => { (s.HostBusySeconds, s.HostTotalSeconds) = (2, 8); s.SetCpuSeconds(A.Uuid, 2); };
        fixture.SetEnergy("intel-rapl:0", 120_000_000);
        clock = 2;
        var sample = Assert.Single(reader.Read(new[] { A }, t0.AddSeconds(2), new List<VmProbeException>(), NullProbeLog.Instance), s => s.Zone == "package-0");
        Assert.Equal(60.0, sample.Watts!.Value, 6);
        Assert.Equal("unknown", sample.Idle);
    }

    [Fact]
    public void ADepartingDomainsEnergyBecomesUnattributedAndTheIdentityHoldsEveryCycle()
    {
        using var fixture = PowerFixture.Intel();
        using var harness = new PowerHarness(fixture, fakePmu: false);
        var host = new LinearHost(fixture, idle: 30, perBusy: 70);
        var lineup = new[] { new[] { A, B }, new[] { A, B }, new[] { A, B }, new[] { A }, new[] { A, C }, new[] { A, C } };
        var unattributedBefore = 0.0;
        var bHad = 0.0;
        for (var i = 0; i < lineup.Length; i++)
        {
            var metrics = host.Cycle(harness, 0.6, 0.3, lineup[i]);
            var hostJ = metrics.Value(PowerFamilies.HostEnergy, "package-0", "powercap")!.Value;
            var unattributed = metrics.Value(PowerFamilies.Unattributed, "package-0")!.Value;
            var domains = lineup[i].Sum(d => metrics.Value(PowerFamilies.DomainEnergy, d.Name, d.Uuid.ToString(), "package-0") ?? 0);
            Assert.Equal(hostJ, unattributed + domains, 9);
            Assert.True(unattributed >= unattributedBefore, $"cycle {i}: unattributed went back from {unattributedBefore} to {unattributed}");
            if (i == 2)
            {
                bHad = metrics.Value(PowerFamilies.DomainEnergy, "b", B.Uuid.ToString(), "package-0")!.Value;
                Assert.True(bHad > 0);
            }

            if (i == 3)
            {
                Assert.Null(metrics.Value(PowerFamilies.DomainEnergy, "b", B.Uuid.ToString(), "package-0"));
                Assert.True(unattributed - unattributedBefore >= bHad, "b's joules were dropped, not moved to the unattributed total");
            }

            unattributedBefore = unattributed;
        }
    }

    /// <summary>A host whose package draws <c>idle + perBusy x u</c> watts at busy fraction u, its /proc/stat and a's CPU time to match.</summary>
    private sealed class LinearHost(PowerFixture fixture, double idle, double perBusy)
    {
        private double _joules = 1, _busy, _total, _a, _b, _c, _readAt;

        /// <summary>One cycle 5 s after the last; the interval's energy and CPU time cover the meters' own reading times.</summary>
        public MetricSet Cycle(PowerHarness harness, double busy, double aShareOfBusy, IReadOnlyList<VmDomain>? domains = null, double readDelay = 0)
        {
            var readAt = harness.ReadAt + 5 - harness.ReadDelay + readDelay;
            var seconds = readAt - _readAt;
            _readAt = readAt;
            _joules += (idle + (perBusy * busy)) * seconds;
            _busy += busy * Cpus * seconds;
            _total += Cpus * seconds;
            _a += busy * Cpus * seconds * aShareOfBusy;
            _b += busy * Cpus * seconds * (1 - aShareOfBusy) / 2;
            _c += busy * Cpus * seconds * (1 - aShareOfBusy) / 2;
            fixture.SetEnergy("intel-rapl:0", (ulong)Math.Round(_joules * 1e6));
            return harness.Cycle(domains ?? new[] { A }, 5, s =>
            {
                (s.HostBusySeconds, s.HostTotalSeconds) = (_busy, _total);
                s.SetCpuSeconds(A.Uuid, _a);
                s.SetCpuSeconds(B.Uuid, _b);
                s.SetCpuSeconds(C.Uuid, _c);
            }, readDelay);
        }
    }
}
