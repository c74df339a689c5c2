using VmProbe.Composition;
using VmProbe.Config;
using VmProbe.Power;
using VmProbe.Procfs;
using VmProbe.Tests.Prometheus;
using Xunit;

namespace VmProbe.Tests.Power;

/// <summary>The powermeter key, the --check power line, the activity the other sources share, and a host without meters in a whole cycle.</summary>
public class PowerConfigAndCheckTests
{
    [Fact]
    public void PowermeterKeyInBothFormsGivesTheCommandAndATimeoutOfTheDelayAtMostTenSeconds()
    {
        var yaml = ConfigLoader.Parse("powermeter: \"ipmitool dcmi power reading | awk '/Instantaneous/ {print $4}'\"\ndelay: 2000\n", "p.yaml").Config;
        var keyValue = ConfigLoader.Parse("power_meter=/usr/local/bin/plug-watts\ndelay=20000\n", "config.yaml").Config;
        Assert.Equal("ipmitool dcmi power reading | awk '/Instantaneous/ {print $4}'", yaml.Powermeter);
        Assert.Equal("/usr/local/bin/plug-watts", keyValue.Powermeter);
        PowerOptions fast = yaml;
        PowerOptions slow = keyValue;
        Assert.Equal(TimeSpan.FromSeconds(2), fast.PowermeterTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), slow.PowermeterTimeout);
        Assert.Null(ConfigLoader.Parse("prefix: p\n", "d.yaml").Config.Powermeter);
    }

    [Theory]
    [InlineData("control")]
    [InlineData("long")]
    public void ABadPowermeterIsAnErrorNamingTheKey(string what)
    {
        var text = what == "control" ? "powermeter: \"echo 1\\techo 2\"\n" : $"powermeter: {new string('x', 5000)}\n";
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(text, "bad.yaml"));
        var error = Assert.Single(ex.Errors);
        Assert.Equal((1, "powermeter"), (error.Line, error.Key));
        Assert.Contains("shell command", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckLineNamesTheMetersByZoneTheSensorsAndTheModel()
    {
        using var fixture = PowerFixture.Intel();
        var line = PowerCheck.Describe(new PowerOptions { Sysfs = fixture.Root }, countsCycles: false);
        Assert.Contains("powercap package-0,cores-0,uncore-0,dram-0,psys", line, StringComparison.Ordinal);
        Assert.Contains("sensors power_meter/power1", line, StringComparison.Ordinal);
        Assert.Contains("model cpu_time", line, StringComparison.Ordinal);
        Assert.Contains("perf cannot count", line, StringComparison.Ordinal); // the fixture's PMU type is not this kernel's
        Assert.Contains("model cpu_time (perfhardware has no cycles", line, StringComparison.Ordinal);
        Assert.Contains("model cpu_time (perfhardware counts cycles, but this host has no CPU PMU", PowerCheck.Describe(new PowerOptions { Sysfs = fixture.Root }, countsCycles: true), StringComparison.Ordinal);
        fixture.Write("bus/event_source/devices/cpu/type", "4");
        Assert.Contains("model cycles (perfhardware counts cycles on the cpu PMU", PowerCheck.Describe(new PowerOptions { Sysfs = fixture.Root }, countsCycles: true), StringComparison.Ordinal);
    }

    [Fact]
    public void CheckLineOnAHostWithoutMetersSaysWhatItLacks()
    {
        using var fixture = new PowerFixture();
        var line = PowerCheck.Describe(new PowerOptions { Sysfs = fixture.Root }, countsCycles: false);
        Assert.StartsWith("no power source (no power source on this host", line, StringComparison.Ordinal);
    }

    [Fact]
    public void HostAndProcfsShareTheActivityThePowerSourceDividesBy()
    {
        var self = new VmDomain { Name = "self", Uuid = Guid.NewGuid(), Pid = Environment.ProcessId };
        var shared = new CycleState();
        var context = new CycleContext(new[] { self }, DateTimeOffset.UtcNow, NullProbeLog.Instance, CancellationToken.None) { Shared = shared };
        using (var host = new HostProcfsSource())
        using (var procfs = new DomainProcfsSource())
        {
            host.Collect(context, new MetricSet());
            procfs.Collect(context, new MetricSet());
        }

        var activity = shared.Get<DomainActivityShare>();
        Assert.True(activity.HostBusySeconds > 0);
        Assert.True(activity.CpuSeconds(self.Uuid) > 0);
        Assert.True(activity.CpuSeconds(self.Uuid) <= activity.HostBusySeconds, "this process's CPU time is part of the host's busy time");
        shared.BeginCycle();
        Assert.Null(activity.CpuSeconds(self.Uuid));
    }

    [Fact]
    public void AHostWithoutMetersWritesEverythingElseInACycleAndSaysItOnce()
    {
        using var fixture = new PowerFixture();
        var log = new ListLog();
        var sources = new IMetricSource[] { new HostProcfsSource(), new PowerSource(new PowerOptions { Sysfs = fixture.Root }, log) };
        var cycle = new ProbeCycle(null, sources, log, 1000);
        MetricSet metrics = null!;
        for (var i = 0; i < 3; i++)
        {
            metrics = cycle.Collect(default);
        }

        Assert.True(metrics.TryGet("host_cpu_seconds_total", out _));
        Assert.False(metrics.TryGet(PowerFamilies.HostEnergy.Name, out _));
        Assert.Equal(0, cycle.ErrorCount(PowerSource.SourceName));
        Assert.Single(log.Lines, l => l.Message.Contains("no power source", StringComparison.Ordinal));
        foreach (var source in sources)
        {
            source.Dispose();
        }
    }

    [Fact]
    public void TheRunnerRegistersPowerAfterTheSourcesWhoseActivityItDivides()
    {
        var names = SourceRegistry.All.Select(r => r.Name).ToList();
        Assert.True(names.IndexOf(PowerSource.SourceName) > 0, "power is not registered");
        Assert.True(names.IndexOf(PowerSource.SourceName) > names.IndexOf(HostProcfsSource.SourceName));
        Assert.True(names.IndexOf(PowerSource.SourceName) > names.IndexOf(DomainProcfsSource.SourceName));
        Assert.True(names.IndexOf(PowerSource.SourceName) > names.IndexOf(VmProbe.Perf.PerfMetricsSource.SourceName));
    }
}
