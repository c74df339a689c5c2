using VmProbe.Power;
using Xunit;

namespace VmProbe.Tests.Power;

/// <summary>Host energy and power from fixture trees shaped like Intel and AMD hosts (this machine has no powercap, no power PMU).</summary>
public class PowerHostEnergyTests
{
    private const double PerfScale = 2.3283064365386962890625e-10;

    [Fact]
    public void IntelHostGivesEveryZoneFromPowercapAndThePowerPmuAndTheAcpiMeter()
    {
        using var fixture = PowerFixture.Intel();
        fixture.PmuCounts[("power_energy_pkg", 0)] = 1UL << 32;
        fixture.PmuCounts[("power_energy_ram", 0)] = 1UL << 30;
        using var harness = new PowerHarness(fixture);
        var metrics = harness.Cycle(Array.Empty<VmDomain>());

        Assert.Equal(1.0, metrics.Value(PowerFamilies.HostEnergy, "package-0", "powercap"));
        Assert.Equal(0.4, metrics.Value(PowerFamilies.HostEnergy, "cores-0", "powercap")!.Value, 12);
        Assert.Equal(0.01, metrics.Value(PowerFamilies.HostEnergy, "uncore-0", "powercap")!.Value, 12);
        Assert.Equal(0.2, metrics.Value(PowerFamilies.HostEnergy, "dram-0", "powercap")!.Value, 12);
        Assert.Equal(2.0, metrics.Value(PowerFamilies.HostEnergy, "psys", "powercap"));
        Assert.Equal((1UL << 32) * PerfScale, metrics.Value(PowerFamilies.HostEnergy, "package-0", "perf")!.Value, 12);
        Assert.Equal((1UL << 30) * PerfScale, metrics.Value(PowerFamilies.HostEnergy, "dram-0", "perf")!.Value, 12);
        Assert.Equal(0.0, metrics.Value(PowerFamilies.HostEnergy, "cores-0", "perf"));
        Assert.Equal(0.0, metrics.Value(PowerFamilies.HostEnergy, "psys", "perf"));

        // The MMIO copy of package-0 (999 uJ) is not a second package-0.
        Assert.Equal(10, metrics.Labels(PowerFamilies.HostEnergy).Count());
        Assert.Equal(231.5, metrics.Value(PowerFamilies.HostPower, "power_meter/power1"));
        Assert.Single(metrics.Labels(PowerFamilies.HostPower));
        Assert.Empty(harness.Errors);
    }

    [Fact]
    public void AmdHostGivesPackagesBySocketAndEveryCoreAsItsOwnZone()
    {
        using var fixture = PowerFixture.Amd();
        fixture.PmuCounts[("power_energy_pkg", 8)] = 4096;
        fixture.PmuCounts[("power_core_energy_core", 2)] = 8192;
        using var harness = new PowerHarness(fixture);
        var metrics = harness.Cycle(Array.Empty<VmDomain>());

        Assert.Equal(5.0, metrics.Value(PowerFamilies.HostEnergy, "package-0", "powercap"));
        Assert.Equal(4096 * PerfScale, metrics.Value(PowerFamilies.HostEnergy, "package-1", "perf")!.Value, 15);
        Assert.Equal(0.0, metrics.Value(PowerFamilies.HostEnergy, "package-0", "perf"));
        for (var core = 0; core < 4; core++)
        {
            Assert.Equal(0.1 * (core + 1), metrics.Value(PowerFamilies.HostEnergy, $"core-{core}", "hwmon")!.Value, 12);
            Assert.NotNull(metrics.Value(PowerFamilies.HostEnergy, $"core-{core}", "perf"));
        }

        Assert.Equal(8192 * PerfScale, metrics.Value(PowerFamilies.HostEnergy, "core-2", "perf")!.Value, 15);
        Assert.Equal(9.0, metrics.Value(PowerFamilies.HostEnergy, "package-0", "hwmon"));
    }

    [Fact]
    public void AWrapBetweenTwoCyclesCountsTheWayUpAndOnFromZero()
    {
        using var fixture = PowerFixture.Intel();
        fixture.SetEnergy("intel-rapl:0", PowerFixture.IntelMaxRange - 3_000_000);
        using var harness = new PowerHarness(fixture);
        var first = harness.Cycle(Array.Empty<VmDomain>()).Value(PowerFamilies.HostEnergy, "package-0", "powercap")!.Value;

        fixture.SetEnergy("intel-rapl:0", 2_000_000);
        var second = harness.Cycle(Array.Empty<VmDomain>()).Value(PowerFamilies.HostEnergy, "package-0", "powercap")!.Value;
        Assert.Equal(5.0, second - first, 6);

        fixture.SetEnergy("intel-rapl:0", 2_500_000);
        var third = harness.Cycle(Array.Empty<VmDomain>()).Value(PowerFamilies.HostEnergy, "package-0", "powercap")!.Value;
        Assert.Equal(0.5, third - second, 6);
    }

    [Fact]
    public void AmdPerCoreZonesAreNamedByTheCpusCoreIdNotTheirPlaceInTheCpumask()
    {
        using var fixture = PowerFixture.Amd();
        var coreIds = new[] { 0, 1, 4, 5 }; // a part with cores 2 and 3 fused off
        for (var cpu = 0; cpu < 4; cpu++)
        {
            fixture.Write($"devices/system/cpu/cpu{cpu}/topology/core_id", coreIds[cpu].ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        fixture.PmuCounts[("power_core_energy_core", 2)] = 8192; // CPU 2 is core 4
        using var harness = new PowerHarness(fixture);
        var metrics = harness.Cycle(Array.Empty<VmDomain>());
        var perfCores = metrics.Labels(PowerFamilies.HostEnergy).Where(l => l[1] == "perf" && l[0].StartsWith("core-", StringComparison.Ordinal)).Select(l => l[0]);
        Assert.Equal(new[] { "core-0", "core-1", "core-4", "core-5" }, perfCores.Order(StringComparer.Ordinal));
        Assert.Equal(8192 * PerfScale, metrics.Value(PowerFamilies.HostEnergy, "core-4", "perf")!.Value, 15);
    }

    [Fact]
    public void AZoneThatDisappearsLosesItsSeriesAndTheOthersGoOn()
    {
        using var fixture = PowerFixture.Intel();
        using var harness = new PowerHarness(fixture, fakePmu: false);
        var before = harness.Cycle(Array.Empty<VmDomain>());
        Assert.NotNull(before.Value(PowerFamilies.HostEnergy, "dram-0", "powercap"));

        fixture.Delete("class/powercap/intel-rapl:0:2");
        fixture.SetEnergy("intel-rapl:0", 3_000_000);
        var after = harness.Cycle(Array.Empty<VmDomain>());
        Assert.Null(after.Value(PowerFamilies.HostEnergy, "dram-0", "powercap"));
        Assert.Null(after.Value(PowerFamilies.Unattributed, "dram-0"));
        Assert.Equal(3.0, after.Value(PowerFamilies.HostEnergy, "package-0", "powercap"));
        Assert.Empty(harness.Errors);
    }

    [Fact]
    public void AZoneThatComesBackGoesOnFromItsLastTotalNotItsRawCount()
    {
        using var fixture = PowerFixture.Intel();
        using var harness = new PowerHarness(fixture, fakePmu: false);
        fixture.SetEnergy("intel-rapl:0:2", 5_000_000);
        harness.Cycle(Array.Empty<VmDomain>());
        fixture.SetEnergy("intel-rapl:0:2", 7_000_000);
        var before = harness.Cycle(Array.Empty<VmDomain>());
        Assert.Equal(7.0, before.Value(PowerFamilies.HostEnergy, "dram-0", "powercap")!.Value, 9);

        fixture.Delete("class/powercap/intel-rapl:0:2");
        harness.Cycle(Array.Empty<VmDomain>());
        fixture.Zone("intel-rapl:0:2", "dram", 1_000_000, 65712999613); // back, its count restarted (a driver reload)
        var back = harness.Cycle(Array.Empty<VmDomain>());
        Assert.Equal(7.0, back.Value(PowerFamilies.HostEnergy, "dram-0", "powercap")!.Value, 9);
        Assert.Equal(7.0, back.Value(PowerFamilies.Unattributed, "dram-0")!.Value, 9);
        fixture.SetEnergy("intel-rapl:0:2", 1_500_000);
        var on = harness.Cycle(Array.Empty<VmDomain>());
        Assert.Equal(7.5, on.Value(PowerFamilies.HostEnergy, "dram-0", "powercap")!.Value, 9);
        Assert.Equal(7.5, on.Value(PowerFamilies.Unattributed, "dram-0")!.Value, 9);
    }

    [Fact]
    public void AnEnergyFileRootAloneMayReadIsSaidOnceAndTheOtherZonesAreWritten()
    {
        using var fixture = PowerFixture.Intel();
        var refused = Path.Combine(fixture.Root, "class/powercap/intel-rapl:0/energy_uj");
        string Read(string path) => path == refused ? throw new UnauthorizedAccessException("Permission denied") : File.ReadAllText(path);
        using var harness = new PowerHarness(fixture, Read);
        for (var i = 0; i < 3; i++)
        {
            var metrics = harness.Cycle(Array.Empty<VmDomain>());
            Assert.Null(metrics.Value(PowerFamilies.HostEnergy, "package-0", "powercap"));
            Assert.NotNull(metrics.Value(PowerFamilies.HostEnergy, "psys", "powercap"));
        }

        var warnings = harness.Log.Lines.Where(l => l.Message.Contains("permission denied", StringComparison.Ordinal)).ToList();
        var warning = Assert.Single(warnings);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("root", warning.Message, StringComparison.Ordinal);
        Assert.Contains(refused, warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AGarbledEnergyFileIsAnItemErrorNamingTheFile()
    {
        using var fixture = PowerFixture.Intel();
        fixture.Write("class/powercap/intel-rapl:1/energy_uj", "12ab");
        using var harness = new PowerHarness(fixture);
        var metrics = harness.Cycle(Array.Empty<VmDomain>());
        Assert.Null(metrics.Value(PowerFamilies.HostEnergy, "psys", "powercap"));
        var error = Assert.Single(harness.Errors);
        Assert.Contains("intel-rapl:1/energy_uj", error.Message, StringComparison.Ordinal);
        Assert.Contains("12ab", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APowerPmuTheKernelCannotOpenIsSaidOnceAndPowercapStillCounts()
    {
        // The fixture's PMU type (4242) does not exist on this kernel: the real perf engine refuses it.
        using var fixture = PowerFixture.Intel();
        using var harness = new PowerHarness(fixture, fakePmu: false);
        harness.Cycle(Array.Empty<VmDomain>());
        var metrics = harness.Cycle(Array.Empty<VmDomain>());
        Assert.DoesNotContain(metrics.Labels(PowerFamilies.HostEnergy), l => l[1] == "perf");
        Assert.NotNull(metrics.Value(PowerFamilies.HostEnergy, "package-0", "powercap"));
        Assert.True(harness.Log.Lines.Count(l => l.Message.Contains("perf cannot count", StringComparison.Ordinal) && l.Message.Contains("power/energy-pkg (ENOENT)", StringComparison.Ordinal)) == 1,
            string.Join("\n", harness.Log.Lines));
    }

    [Fact]
    public void AHostWithoutAnyPowerSourceWritesNoPowerSeriesAndSaysOnceWhatItLacks()
    {
        using var fixture = new PowerFixture();
        using var harness = new PowerHarness(fixture, fakePmu: false);
        for (var i = 0; i < 3; i++)
        {
            var metrics = harness.Cycle(new[] { PowerHarness.Domain("a", 1) });
            Assert.Empty(metrics.Families);
        }

        var line = Assert.Single(harness.Log.Lines);
        Assert.Contains("no power source", line.Message, StringComparison.Ordinal);
        Assert.Contains("powercap", line.Message, StringComparison.Ordinal);
        Assert.Contains("power PMU", line.Message, StringComparison.Ordinal);
        Assert.Contains("hwmon", line.Message, StringComparison.Ordinal);
        Assert.Contains("powermeter", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AHostWithoutAnyMeterIsLookedAtEveryTenthCycleAndAMeterThatAppearsIsWrittenWithinThem()
    {
        using var fixture = new PowerFixture();
        using var harness = new PowerHarness(fixture, fakePmu: false);
        var domains = new[] { PowerHarness.Domain("a", 1) };
        Assert.Empty(harness.Cycle(domains).Families); // looked: nothing there

        fixture.Zone("intel-rapl:0", "package-0", 1_000_000, PowerFixture.IntelMaxRange);
        var cycles = 1;
        MetricSet metrics;
        do
        {
            metrics = harness.Cycle(domains);
            cycles++;
        }
        while (metrics.Value(PowerFamilies.HostEnergy, "package-0", "powercap") is null && cycles <= PowerSource.NoMeterLookEvery + 1);

        // Not the very next cycle (sysfs was not looked at), but at the next look, with the meter's full count.
        Assert.Equal(PowerSource.NoMeterLookEvery + 1, cycles);
        Assert.Equal(1.0, metrics.Value(PowerFamilies.HostEnergy, "package-0", "powercap"));
        fixture.SetEnergy("intel-rapl:0", 3_000_000);
        Assert.Equal(3.0, harness.Cycle(domains).Value(PowerFamilies.HostEnergy, "package-0", "powercap")); // every cycle from then on
    }

    [Theory]
    [InlineData("intel-rapl:0", "package-0", "package-0")]
    [InlineData("intel-rapl:1", "psys", "psys")]
    [InlineData("intel-rapl:0:0", "core", "cores-0")]
    [InlineData("intel-rapl:1:1", "uncore", "uncore-1")]
    [InlineData("intel-rapl:1:0", "dram", "dram-1")]
    public void PowercapZonesAreNamedAfterTheirPackage(string id, string name, string zone) =>
        Assert.Equal(zone, PowercapReader.ZoneName(id, name));

    [Theory]
    [InlineData("amd_energy", "Ecore000", "core-0")]
    [InlineData("amd_energy", "Ecore127", "core-127")]
    [InlineData("amd_energy", "Esocket1", "package-1")]
    [InlineData("xe", "card", "xe-card")]
    public void HwmonEnergyLabelsBecomeZones(string device, string label, string zone) =>
        Assert.Equal(zone, HwmonReader.ZoneOf(device, label));
}
