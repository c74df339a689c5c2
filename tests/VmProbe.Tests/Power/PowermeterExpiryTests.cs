using VmProbe.Config;
using VmProbe.Power;
using Xunit;

namespace VmProbe.Tests.Power;

/// <summary>
/// A powermeter that stops answering, run for real (a script whose behaviour a flag file switches): its last watts
/// expire after three failed runs in a row or past their age, every failure is counted, and each failure streak is
/// logged once (a warning as it starts, an info line as the meter recovers).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PowermeterExpiryTests : IDisposable
{
    private static readonly TimeSpan RunWait = TimeSpan.FromSeconds(20);
    private readonly string _directory = Directory.CreateTempSubdirectory("vmprobe-powermeter-expiry-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Flag => Path.Combine(_directory, "broken");

    [Fact]
    public void AMeterThatFailsLosesItsWattsAfterThreeRunsIsLoggedOncePerStreakAndRecovers()
    {
        using var fixture = new PowerFixture();
        var script = Script($"#!/bin/sh\nif [ -e {Flag} ]; then echo 'meter offline' >&2; exit 1; fi\necho 50\n");
        using var harness = new PowerHarness(fixture, fakePmu: false, powermeter: script);
        MetricSet Cycle()
        {
            var metrics = harness.Cycle(Array.Empty<VmDomain>());
            Assert.True(harness.Source.Powermeter!.WaitForRun(RunWait));
            return metrics;
        }

        int Count(LogLevel level) => harness.Log.Lines.Count(l => l.Level == level && l.Message.Contains("powermeter command", StringComparison.Ordinal));

        Cycle();
        File.WriteAllText(Flag, string.Empty);
        var watts = new List<double?>();
        var failures = new List<double?>();
        for (var i = 0; i < 4; i++)
        {
            var metrics = Cycle();
            watts.Add(metrics.Value(PowerFamilies.HostPower, "powermeter"));
            failures.Add(metrics.Value(PowerFamilies.PowermeterFailures, "exit"));
        }

        // The reading of the good run stays through two failures, is dropped at the third; every failure is counted.
        Assert.Equal(new double?[] { 50, 50, 50, null }, watts);
        Assert.Equal(new double?[] { 0, 1, 2, 3 }, failures);
        Assert.Equal(1, Count(LogLevel.Warning));
        Assert.Contains(harness.Log.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("exited with status 1", StringComparison.Ordinal));
        Assert.Equal(0, Count(LogLevel.Info));

        File.Delete(Flag);
        Cycle(); // its run is the first good one again
        var recovered = Cycle();
        Assert.Equal(50, recovered.Value(PowerFamilies.HostPower, "powermeter"));
        Assert.Equal(1, Count(LogLevel.Info));
        Assert.Contains(harness.Log.Lines, l => l.Level == LogLevel.Info && l.Message.Contains("answers again (50 W) after 4 failed run(s)", StringComparison.Ordinal));

        // A new streak is a new warning.
        File.WriteAllText(Flag, string.Empty);
        Cycle();
        Cycle();
        Assert.Equal(2, Count(LogLevel.Warning));
        Assert.Equal(1, Count(LogLevel.Info));
    }

    [Fact]
    public void AHangingMeterLosesItsWattsOnceTheyAreOlderThanTheMaxAge()
    {
        var script = Script($"#!/bin/sh\nif [ -e {Flag} ]; then sleep 60; fi\necho 50\n");
        using var meter = new PowermeterCommand(script, TimeSpan.FromSeconds(30), maxAge: TimeSpan.FromSeconds(1));
        meter.Poll();
        Assert.True(meter.WaitForRun(RunWait));
        File.WriteAllText(Flag, string.Empty);
        var started = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(50, meter.Poll()); // starts the run that hangs
        Thread.Sleep(TimeSpan.FromSeconds(1.5));
        Assert.Null(meter.Poll());
        Assert.False(meter.WaitForRun(TimeSpan.Zero), "the hanging run should still be under way");
        Assert.All(Enum.GetValues<PowermeterFailure>(), reason => Assert.Equal(0, meter.Failures(reason)));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), "Poll waited for the hanging run");
    }

    [Fact]
    public void TheRunnerLetsAReadingLiveThreeIntervals()
    {
        PowerOptions options = ConfigLoader.Parse("powermeter: /bin/true\ndelay: 2000\n", "p.yaml").Config;
        Assert.Equal(TimeSpan.FromSeconds(6), options.PowermeterMaxAge);
    }

    private string Script(string text)
    {
        var path = Path.Combine(_directory, "meter.sh");
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
