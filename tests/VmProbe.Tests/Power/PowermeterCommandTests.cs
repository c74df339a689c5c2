using VmProbe.Power;
using Xunit;

namespace VmProbe.Tests.Power;

/// <summary>The powermeter command run for real: a script printing watts, a hanging one, a garbage one, a failing one, a chatty one.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PowermeterCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("vmprobe-powermeter-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void AScriptPrintingWattsGivesTheReadingOnTheNextPoll()
    {
        var script = Script("meter.sh", "#!/bin/sh\necho '231.5 W'\n");
        using var meter = new PowermeterCommand(script, TimeSpan.FromSeconds(10));
        Assert.Null(meter.Poll()); // the first run has only started
        Assert.True(meter.WaitForRun(TimeSpan.FromSeconds(10)));
        Assert.Equal(231.5, meter.Poll());
        Assert.All(Enum.GetValues<PowermeterFailure>(), reason => Assert.Equal(0, meter.Failures(reason)));
    }

    [Fact]
    public void AHangingScriptIsKilledAtTheTimeoutWithoutHoldingThePoll()
    {
        var marker = Path.Combine(_directory, "pid");
        var script = Script("hang.sh", $"#!/bin/sh\necho $$ > {marker}\nsleep 300\necho 100\n");
        using var meter = new PowermeterCommand(script, TimeSpan.FromMilliseconds(500));
        Assert.Null(meter.Poll());
        Assert.Null(meter.Poll()); // still running: no second run, no wait
        Assert.True(meter.WaitForRun(TimeSpan.FromSeconds(20)));
        Assert.Equal(1, meter.Failures(PowermeterFailure.Timeout));
        Assert.Contains("killed", meter.FailureText, StringComparison.Ordinal);
        var pid = int.Parse(File.ReadAllText(marker).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(SpinWait.SpinUntil(() => !Directory.Exists($"/proc/{pid}") || File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal), 5000),
            $"the hanging script {pid} still runs");
    }

    [Fact]
    public void ACommandLeavingABackgroundChildOnStdoutGivesItsReadingAndLeavesNoChild()
    {
        // (sleep 300 &); echo 99 -- the sleep, a grandchild, holds stdout open for 300 s. The fraction marks this test's.
        var marker = "300." + Random.Shared.Next(100_000, 999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var meter = new PowermeterCommand($"(sleep {marker} &); echo 99", TimeSpan.FromSeconds(3));
        for (var run = 0; run < 2; run++)
        {
            meter.Poll();
            Assert.True(meter.WaitForRun(TimeSpan.FromSeconds(10)));
        }

        Assert.Equal(99, meter.Poll());
        Assert.True(meter.WaitForRun(TimeSpan.FromSeconds(10)));
        Assert.All(Enum.GetValues<PowermeterFailure>(), reason => Assert.Equal(0, meter.Failures(reason)));
        Assert.True(SpinWait.SpinUntil(() => Running(marker) == 0, 5000), $"{Running(marker)} 'sleep {marker}' left running");
    }

    [Theory]
    [InlineData("echo 'about two hundred watts'", "Output")]
    [InlineData("printf '\\001\\377\\n'", "Output")]
    [InlineData("echo 120; exit 3", "Exit")]
    [InlineData("head -c 100000 /dev/zero | tr '\\0' 7", "Output")]
    [InlineData("/nonexistent/meter", "Exit")]
    public void AFailedRunIsCountedByReasonAndTheLastGoodReadingStays(string body, string reasonName)
    {
        var reason = Enum.Parse<PowermeterFailure>(reasonName);
        var flag = Path.Combine(_directory, "bad");
        var script = Script("meter.sh", $"#!/bin/sh\nif [ -e {flag} ]; then {body}; else echo 80; fi\n");
        using var meter = new PowermeterCommand(script, TimeSpan.FromSeconds(10));
        meter.Poll();
        Assert.True(meter.WaitForRun(TimeSpan.FromSeconds(10)));
        File.WriteAllText(flag, string.Empty);
        Assert.Equal(80, meter.Poll());
        Assert.True(meter.WaitForRun(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, meter.Failures(reason));
        Assert.Equal(80, meter.Poll());
        Assert.NotNull(meter.FailureText);
    }

    [Theory]
    [InlineData("231.5", 231.5)]
    [InlineData(" 12 W\n", 12.0)]
    [InlineData("1e3", 1000.0)]
    [InlineData("-5", null)]
    [InlineData("NaN", null)]
    [InlineData("", null)]
    [InlineData("12,5", null)]
    [InlineData("12\n13", null)]
    public void OutputMustBeOneNumberOfWatts(string output, double? watts) => Assert.Equal(watts, PowermeterCommand.Parse(output));

    [Fact]
    public void ThePowerSourceWritesTheMeterAndItsFailures()
    {
        using var fixture = new PowerFixture();
        var script = Script("meter.sh", "#!/bin/sh\necho 42\n");
        using var harness = new PowerHarness(fixture, fakePmu: false, powermeter: script);
        var first = harness.Cycle(Array.Empty<VmDomain>());
        Assert.Null(first.Value(PowerFamilies.HostPower, "powermeter"));
        Assert.Equal(0, first.Value(PowerFamilies.PowermeterFailures, "timeout"));
        Assert.True(harness.Source.Powermeter!.WaitForRun(TimeSpan.FromSeconds(10)));
        var second = harness.Cycle(Array.Empty<VmDomain>());
        Assert.Equal(42, second.Value(PowerFamilies.HostPower, "powermeter"));
        Assert.Equal(4, second.Labels(PowerFamilies.PowermeterFailures).Count());
    }

    /// <summary>Live processes whose command line has <paramref name="marker"/> (zombies have none).</summary>
    private static int Running(string marker) =>
        Directory.EnumerateDirectories("/proc").Count(d => int.TryParse(Path.GetFileName(d), out _) && CommandLine(d).Contains(marker, StringComparison.Ordinal));

    private static string CommandLine(string directory)
    {
        try
        {
            return File.ReadAllText(Path.Combine(directory, "cmdline"));
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return string.Empty; // gone meanwhile
        }
    }

    private string Script(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
