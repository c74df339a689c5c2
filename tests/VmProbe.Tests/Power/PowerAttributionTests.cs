using VmProbe.Power;
using Xunit;

namespace VmProbe.Tests.Power;

/// <summary>The per-domain energy model on fixtures: shares by cycles or CPU time, idle kept apart, and the sum identity.</summary>
public class PowerAttributionTests
{
    private static readonly VmDomain A = PowerHarness.Domain("a", 1);
    private static readonly VmDomain B = PowerHarness.Domain("b", 2);

    [Fact]
    public void DomainsPlusUnattributedEqualTheHostInEveryZoneEveryCycle()
    {
        using var fixture = PowerFixture.Intel();
        using var harness = new PowerHarness(fixture, fakePmu: false);
        var domains = new[] { A, B };
        ulong package = 1_000_000, dram = 200_000;
        double cpuA = 0, cpuB = 0, busy = 0, attributedToA = 0;
        var random = new Random(16);
        for (var cycle = 0; cycle < 8; cycle++)
        {
            package += (ulong)random.Next(10_000_000, 90_000_000);
            dram += (ulong)random.Next(1_000_000, 9_000_000);
            fixture.SetEnergy("intel-rapl:0", package);
            fixture.SetEnergy("intel-rapl:0:2", dram);
            cpuA += random.NextDouble() * 2;
            cpuB += random.NextDouble() * 2;
            busy += (cpuA + cpuB) / 4 + 1 + random.NextDouble();
            var metrics = harness.Cycle(domains, activity: share =>
            {
                share.HostBusySeconds = busy;
                share.SetCpuSeconds(A.Uuid, cpuA);
                share.SetCpuSeconds(B.Uuid, cpuB);
            });

            // Every zone divided, against the source it was divided by (the info series names it).
            var divided = metrics.Labels(PowerFamilies.Model).ToList();
            Assert.Equal(5, divided.Count);
            foreach (var (zone, source) in divided.Select(l => (l[1], l[2])))
            {
                var host = metrics.Value(PowerFamilies.HostEnergy, zone, source)!.Value;
                var sum = metrics.Value(PowerFamilies.Unattributed, zone)!.Value
                    + domains.Sum(d => metrics.Value(PowerFamilies.DomainEnergy, d.Name, d.Uuid.ToString(), zone) ?? 0);
                Assert.Equal(host, sum, 9);
            }

            attributedToA = metrics.Value(PowerFamilies.DomainEnergy, "a", A.Uuid.ToString(), "package-0") ?? 0;
        }

        Assert.True(attributedToA > 0, "a got nothing");
    }

    [Fact]
    public void CpuTimeSharesDivideTheEnergyAndTheRestStaysUnattributed()
    {
        using var fixture = PowerFixture.Intel();
        using var harness = new PowerHarness(fixture, fakePmu: false);
        var domains = new[] { A, B };

        // Cycle 1: first readings. Cycle 2: 10 W for 5 s with nothing running. Cycle 3: 30 W, a has 1/2 of the busy
        // time and b 1/4. The load has not varied enough to fit an idle power: nothing is taken as idle.
        fixture.SetEnergy("intel-rapl:0", 0);
        harness.Cycle(domains, activity: s => Activity(s, busy: 0, a: 0, b: 0));
        fixture.SetEnergy("intel-rapl:0", 50_000_000);
        var idle = harness.Cycle(domains, activity: s => Activity(s, busy: 0, a: 0, b: 0));
        Assert.Null(idle.Value(PowerFamilies.IdlePower, "package-0"));
        Assert.Equal(0.0, idle.Value(PowerFamilies.DomainEnergy, "a", A.Uuid.ToString(), "package-0") ?? 0);

        fixture.SetEnergy("intel-rapl:0", 200_000_000);
        var busy = harness.Cycle(domains, activity: s => Activity(s, busy: 4, a: 2, b: 1));
        Assert.Equal(75.0, busy.Value(PowerFamilies.DomainEnergy, "a", A.Uuid.ToString(), "package-0")!.Value, 9); // 150 J / 2
        Assert.Equal(37.5, busy.Value(PowerFamilies.DomainEnergy, "b", B.Uuid.ToString(), "package-0")!.Value, 9);
        Assert.Equal(200.0 - 112.5, busy.Value(PowerFamilies.Unattributed, "package-0")!.Value, 9);
        Assert.Equal(1, busy.Value(PowerFamilies.Model, "cpu_time", "package-0", "powercap", "unknown"));
    }

    [Fact]
    public void CyclesSharesAreUsedWhenPerfCountedCyclesForTheHostAndEveryDomain()
    {
        using var fixture = PowerFixture.Intel();
        using var harness = new PowerHarness(fixture, fakePmu: false);
        var domains = new[] { A, B };
        fixture.SetEnergy("intel-rapl:0", 0);
        harness.Cycle(domains, activity: s => Activity(s, busy: 0, a: 0, b: 0, cycles: (0, 0, 0)));
        fixture.SetEnergy("intel-rapl:0", 10_000_000);
        harness.Cycle(domains, activity: s => Activity(s, busy: 0, a: 0, b: 0, cycles: (0, 0, 0))); // 2 W, idle unknown

        // Equal CPU time, but a ran 3/4 of the host's cycles and b 1/8: cycles decide.
        fixture.SetEnergy("intel-rapl:0", 60_000_000);
        var metrics = harness.Cycle(domains, activity: s => Activity(s, busy: 4, a: 2, b: 2, cycles: (8e9, 6e9, 1e9)));
        Assert.Equal(1, metrics.Value(PowerFamilies.Model, "cycles", "package-0", "powercap", "unknown"));
        Assert.Equal(50.0 * 3 / 4, metrics.Value(PowerFamilies.DomainEnergy, "a", A.Uuid.ToString(), "package-0")!.Value, 9);
        Assert.Equal(50.0 / 8, metrics.Value(PowerFamilies.DomainEnergy, "b", B.Uuid.ToString(), "package-0")!.Value, 9);

        // b's cycles are missing this cycle: everyone falls back to CPU time, and the model says so.
        fixture.SetEnergy("intel-rapl:0", 110_000_000);
        var fallback = harness.Cycle(domains, activity: s =>
        {
            Activity(s, busy: 8, a: 4, b: 4);
            s.HostCycles = 16e9;
            s.SetCycles(A.Uuid, 12e9);
        });
        Assert.Equal(1, fallback.Value(PowerFamilies.Model, "cpu_time", "package-0", "powercap", "unknown"));
    }

    [Fact]
    public void WithoutAnyActivityEverythingStaysUnattributedUnderModelNone()
    {
        using var fixture = PowerFixture.Intel();
        using var harness = new PowerHarness(fixture, fakePmu: false);
        harness.Cycle(new[] { A });
        fixture.SetEnergy("intel-rapl:0", 9_000_000);
        var metrics = harness.Cycle(new[] { A });
        Assert.Equal(1, metrics.Value(PowerFamilies.Model, "none", "package-0", "powercap", "unknown"));
        Assert.Null(metrics.Value(PowerFamilies.DomainEnergy, "a", A.Uuid.ToString(), "package-0"));
        Assert.Equal(9.0, metrics.Value(PowerFamilies.Unattributed, "package-0")!.Value, 9);
    }

    private static void Activity(DomainActivityShare share, double busy, double a, double b, (double Host, double A, double B)? cycles = null)
    {
        share.HostBusySeconds = busy;
        share.SetCpuSeconds(A.Uuid, a);
        share.SetCpuSeconds(B.Uuid, b);
        if (cycles is { } c)
        {
            share.HostCycles = c.Host;
            share.SetCycles(A.Uuid, c.A);
            share.SetCycles(B.Uuid, c.B);
        }
    }
}
