using VmProbe.Composition;
using VmProbe.Power;
using VmProbe.Tests.Prometheus;
using Xunit;

namespace VmProbe.Tests.Power;

/// <summary>
/// Read-VmPower's engine (<see cref="DomainPowerReader"/>): the runner's model on fixtures, by cycles when the activity
/// has them for the host and every domain and by CPU time otherwise (cycles cannot be counted here: the share is
/// injected as the source tests do), and live with the real host, procfs and perf sources.
/// </summary>
public sealed class DomainPowerReaderTests
{
    private static readonly VmDomain A = PowerHarness.Domain("a", 1);
    private static readonly VmDomain B = PowerHarness.Domain("b", 2);
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void CyclesSharesGiveEachDomainItsWattsAndTheModelCycles()
    {
        // Quiet interval: 10 J in 5 s (2 W). Busy interval: 60 J, all dynamic (too few intervals to fit an idle power); a
        // ran 3/4 of the cycles, b 1/8 while their CPU time is equal (CPU time would give each the same).
        var samples = ReadThreeIntervals(withCycles: true);
        Assert.All(samples, s => Assert.Equal("cycles", s.Model));
        Assert.All(samples, s => Assert.Equal("powercap", s.Source));
        Assert.Equal(60.0 * 3 / 4 / 5, Watts(samples, A), 9);
        Assert.Equal(60.0 / 8 / 5, Watts(samples, B), 9);
        Assert.Equal(TimeSpan.FromSeconds(5), samples.First(s => s.Uuid == A.Uuid).Interval);
    }

    [Fact]
    public void WithoutCyclesCpuTimeSharesDecideAndTheModelSaysCpuTime()
    {
        var samples = ReadThreeIntervals(withCycles: false);
        Assert.All(samples, s => Assert.Equal("cpu_time", s.Model));
        Assert.Equal(60.0 * 2 / 4 / 5, Watts(samples, A), 9); // half the busy time
        Assert.Equal(60.0 * 2 / 4 / 5, Watts(samples, B), 9);
    }

    [SkippableFact]
    public void LiveTheRealSourcesIncludingPerfGiveThisProcessEnergyByItsCpuTime()
    {
        Skip.IfNot(File.Exists("/proc/stat"), "no /proc");
        using var fixture = PowerFixture.Intel();
        var self = new VmDomain { Name = "self", Uuid = Guid.NewGuid(), Pid = Environment.ProcessId };
        var log = new ListLog();
        using var reader = new DomainPowerReader(options: new PowerOptions { Sysfs = fixture.Root });
        Assert.Equal(new[] { "host", "procfs", "perf", "power" }, reader.SourceNames);

        ulong energy = 1_000_000;
        List<VmPowerSample> last = new();
        var at = DateTimeOffset.UtcNow;
        for (var reading = 0; reading < 4; reading++)
        {
            Spin(TimeSpan.FromMilliseconds(300));
            energy += reading == 1 ? 100_000UL : 30_000_000UL; // a quiet interval sets the idle estimate low
            fixture.SetEnergy("intel-rapl:0", energy);
            at = at.AddSeconds(1);
            var errors = new List<VmProbeException>();
            last = reader.Read(new[] { self }, at, errors, log);
            Assert.Empty(errors);
        }

        var package = Assert.Single(last, s => s.Zone == "package-0");
        // Where the CPU has a PMU counting cycles (and perf lets this user count them) the cycles model applies.
        var hasPmu = Directory.Exists("/sys/bus/event_source/devices/cpu");
        Assert.Contains(package.Model, hasPmu ? new[] { "cycles", "cpu_time" } : new[] { "cpu_time" });
        Assert.True(package.EnergyJoules > 0, "this process spun, yet got no energy");
        Assert.True(package.Watts > 0);
        Assert.True(package.Watts <= 30.0 + 1e-9, $"more than the host's 30 W: {package.Watts}");
        if (!hasPmu)
        {
            // perf could not count cycles: said once, as a verbose line (the model names what was used), not a warning.
            Assert.DoesNotContain(log.Lines, l => l.Level >= LogLevel.Warning);
            Assert.Contains(log.Lines, l => l.Message.StartsWith("power (cycles model): ", StringComparison.Ordinal) && l.Message.Contains("cycles", StringComparison.Ordinal));
        }
    }

    private static List<VmPowerSample> ReadThreeIntervals(bool withCycles)
    {
        using var fixture = PowerFixture.Intel();
        var activity = new InjectedActivity();
        using var reader = new DomainPowerReader(new[] { activity }, new PowerSource(new PowerOptions { Sysfs = fixture.Root }, NullProbeLog.Instance));
        var domains = new[] { A, B };
        var steps = new (ulong Microjoules, double Busy, double Cpu, (double Host, double A, double B) Cycles)[]
        {
            (0, 0, 0, (0, 0, 0)),
            (10_000_000, 0, 0, (0, 0, 0)),
            (70_000_000, 4, 2, (8e9, 6e9, 1e9)),
        };
        List<VmPowerSample> samples = new();
        for (var i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            fixture.SetEnergy("intel-rapl:0", step.Microjoules);
            activity.Next = share =>
            {
                share.HostBusySeconds = step.Busy;
                share.SetCpuSeconds(A.Uuid, step.Cpu);
                share.SetCpuSeconds(B.Uuid, step.Cpu);
                if (withCycles)
                {
                    share.HostCycles = step.Cycles.Host;
                    share.SetCycles(A.Uuid, step.Cycles.A);
                    share.SetCycles(B.Uuid, step.Cycles.B);
                }
            };
            samples = reader.Read(domains, T0.AddSeconds(5 * i), new List<VmProbeException>(), NullProbeLog.Instance);
        }

        return samples.Where(s => s.Zone == "package-0").ToList();
    }

    private static double Watts(List<VmPowerSample> samples, VmDomain domain) =>
        Assert.Single(samples, s => s.Uuid == domain.Uuid).Watts!.Value;

    private static void Spin(TimeSpan time)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var x = 0.0;
        while (clock.Elapsed < time)
        {
            x += Math.Sqrt(x + 1);
        }

        GC.KeepAlive(x);
    }
}
