using VmProbe.Views;
using Xunit;
using static VmProbe.Tests.Views.ViewFixtures;

namespace VmProbe.Tests.Views;

/// <summary>Issue 15: consecutive cycles' MetricSets become per-VM rows of rates over the cycles' own interval.</summary>
public class ViewFrameBuilderTests
{
    [Fact]
    public void FirstCycleHasNoRatesAndTheSecondHasRatesOverTheReadingsInterval()
    {
        var builder = new ViewFrameBuilder();
        // The first cycle started at 999 but its discovery stalled: the sources read at 1000.
        var first = At(999);
        Vm(first, "web", run: 10, wait: 1, vcpuRun: 8, vcpuWait: 0.5);
        HostCpu(first, ("user", 100), ("idle", 500), ("steal", 3), ("guest", 40));
        ReadAt(first, 1000);
        var frame1 = builder.Build(first);
        Assert.Null(frame1.IntervalSeconds);
        var web1 = Assert.Single(frame1.Vms);
        Assert.Null(web1.CpuCores);
        Assert.Equal(128 << 20, web1.RssBytes); // a gauge needs no previous reading

        // Read two seconds later (three after the first cycle began): 2 s of CPU (1 core), vCPU ran 1.5 s and waited
        // 0.5 s of the 2 s (steal 25 %). Over the cycles' 3 s these would read 0.67 core and 17 %.
        var second = At(1002);
        Vm(second, "web", run: 12, wait: 1.6, vcpuRun: 9.5, vcpuWait: 1.0);
        HostCpu(second, ("user", 101), ("idle", 502), ("steal", 3.5), ("guest", 40.4));
        ReadAt(second, 1002);
        var frame2 = builder.Build(second);
        Assert.Equal(3, frame2.IntervalSeconds!.Value, 6); // the cycles' own interval, shown on screen
        var web = Assert.Single(frame2.Vms);
        Assert.Equal(1.0, web.CpuCores!.Value, 6);
        Assert.Equal(0.25, web.StealRatio!.Value, 6);
        var vcpu = Assert.Single(web.Vcpus);
        Assert.Equal("0", vcpu.Vcpu);
        Assert.Equal(0.75, vcpu.CpuCores!.Value, 6);
        Assert.Equal(0.25, vcpu.StealRatio!.Value, 6);
        Assert.Equal(0.5, frame2.HostCpuCores.Single(m => m.Name == "user").PerSecond!.Value, 6);
        Assert.Equal(0.25, frame2.HostCpuCores.Single(m => m.Name == "steal").PerSecond!.Value, 6);
        Assert.Equal(0.2, frame2.HostCpuCores.Single(m => m.Name == "guest").PerSecond!.Value, 6);
    }

    [Fact]
    public void StealIsWaitOverWallTimeSoAnIdleVcpuThatWaitedBrieflyIsNotStolen()
    {
        // Over 4 s the vCPU ran 0.2 s and waited 0.2 s: half of its runnable time, but a twentieth of the wall time.
        var (first, second) = (At(100), At(104));
        Vm(first, "idle", run: 5, wait: 1, vcpuRun: 1, vcpuWait: 1);
        Vm(second, "idle", run: 6, wait: 1.5, vcpuRun: 1.2, vcpuWait: 1.2);
        var idle = SecondFrame(first, second).Vms.Single();
        Assert.Equal(0.05, idle.Vcpus.Single().StealRatio!.Value, 9);
        Assert.Equal(0.05, idle.StealRatio!.Value, 9);
    }

    [Fact]
    public void ExitsIpcIoAndPowerComeFromTheirFamiliesOnlyWhenPresent()
    {
        var builder = new ViewFrameBuilder();
        var first = At(50);
        Vm(first, "db", 1, 0, 1, 0);
        Exits(first, "db", ("HLT", 100), ("EPT_VIOLATION", 10));
        Event(first, "db", "cpu_cycles", 1000);
        Event(first, "db", "instructions", 500);
        Io(first, "db", read: 0, write: 0, rx: 0, tx: 0);
        Energy(first, "db", 10);
        Vm(first, "plain", 1, 0, 1, 0);
        builder.Build(first);

        var second = At(51);
        Vm(second, "db", 1.5, 0, 1.5, 0);
        Exits(second, "db", ("HLT", 150), ("EPT_VIOLATION", 310));
        Event(second, "db", "cpu_cycles", 3000);
        Event(second, "db", "instructions", 3500);
        Io(second, "db", read: 4096, write: 1024, rx: 100, tx: 50);
        Energy(second, "db", 22.5);
        Vm(second, "plain", 1.25, 0, 1.25, 0);
        var frame = builder.Build(second);

        var db = frame.Vms.Single(v => v.Name == "db");
        Assert.Equal(350, db.ExitsPerSecond!.Value, 6);
        Assert.Equal("EPT_VIOLATION", db.TopExitReason);
        Assert.Equal(new[] { "EPT_VIOLATION", "HLT" }, db.ExitReasons.Select(r => r.Name));
        Assert.Equal(1.5, db.Ipc!.Value, 6);
        Assert.Equal(5120, db.DiskBytesPerSecond!.Value, 6);
        Assert.Equal(150, db.NetBytesPerSecond!.Value, 6);
        Assert.Equal(12.5, db.Watts!.Value, 6);
        Assert.True(db.EnergyMeasured);
        Assert.Equal(new[] { "cpu_cycles", "instructions" }, db.Events.Select(e => e.Name));

        var plain = frame.Vms.Single(v => v.Name == "plain");
        Assert.Equal(0.25, plain.CpuCores!.Value, 6);
        Assert.Null(plain.ExitsPerSecond);
        Assert.Null(plain.Ipc);
        Assert.Null(plain.Watts);
        Assert.False(plain.EnergyMeasured);
        Assert.Null(plain.HaltPollSuccessRatio);
    }

    [Theory]
    [InlineData("intel", 12.0)] // package-0 + dram-0; cores-0 and uncore-0 are inside the package, psys holds both
    [InlineData("amd", 10.0)] // package-0; AMD's per-core zones are inside it
    [InlineData("psys-only", 15.0)]
    public void WattsCountNestedEnergyZonesOnce(string host, double watts)
    {
        var zones = host switch
        {
            "intel" => new[] { ("package-0", 10.0), ("cores-0", 6.0), ("uncore-0", 1.0), ("dram-0", 2.0), ("psys", 15.0) },
            "amd" => new[] { ("package-0", 10.0), ("core-0", 4.0), ("core-1", 3.0) },
            _ => new[] { ("psys", 15.0) },
        };
        var builder = new ViewFrameBuilder();
        var first = ViewFixtures.At(100);
        var second = ViewFixtures.At(102);
        foreach (var (zone, perSecond) in zones)
        {
            ViewFixtures.Energy(first, "vm", 1000, zone);
            ViewFixtures.Energy(second, "vm", 1000 + (2 * perSecond), zone);
        }

        builder.Build(first);
        var row = builder.Build(second).Vms.Single();
        Assert.True(row.EnergyMeasured);
        Assert.Equal(watts, row.Watts!.Value, 6);
    }

    [Fact]
    public void ACounterThatWentDownOrANewSeriesHasNoRateRatherThanAWrongOne()
    {
        var builder = new ViewFrameBuilder();
        var first = At(10);
        Vm(first, "restarted", run: 100, wait: 5, vcpuRun: 90, vcpuWait: 4);
        builder.Build(first);

        var second = At(11);
        Vm(second, "restarted", run: 0.5, wait: 0.01, vcpuRun: 0.4, vcpuWait: 0.01); // QEMU restarted: counters from 0
        Vm(second, "new", run: 3, wait: 0, vcpuRun: 3, vcpuWait: 0);
        var frame = builder.Build(second);
        Assert.All(frame.Vms, vm => Assert.Null(vm.CpuCores));
        Assert.All(frame.Vms, vm => Assert.Null(vm.StealRatio));

        var third = At(12);
        Vm(third, "restarted", run: 1.0, wait: 0.01, vcpuRun: 0.9, vcpuWait: 0.01);
        Assert.Equal(0.5, builder.Build(third).Vms.Single().CpuCores!.Value, 6);
    }

    [Fact]
    public void TheSetIsConsumedDuringBuildSoTheLoopMayResetIt()
    {
        var builder = new ViewFrameBuilder();
        var set = At(100);
        Vm(set, "a", 1, 0, 1, 0);
        builder.Build(set);
        set.Reset();
        set.Family(ProbeFamilies.LastCycleTimestamp).Add(101);
        ViewFixtures.Vm(set, "a", 3, 0, 3, 0);
        Assert.Equal(2.0, builder.Build(set).Vms.Single().CpuCores!.Value, 6);
    }

    [Theory]
    [InlineData(0.25, ViewFormat.Percent, "25.0")]
    [InlineData(1.0, ViewFormat.Percent, "100")]
    [InlineData(0.987, ViewFormat.Cores, "0.99")]
    [InlineData(1536.0, ViewFormat.Bytes, "1.5K")]
    [InlineData(134217728.0, ViewFormat.Bytes, "128M")]
    [InlineData(12345.0, ViewFormat.PerSecond, "12k")]
    [InlineData(null, ViewFormat.Cores, "-")]
    public void CellsFitTheirColumnsForPeople(double? value, ViewFormat format, string expected) =>
        Assert.Equal(expected, ViewColumns.Human(value, format));
}
