using System.Diagnostics;
using System.Runtime.InteropServices;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Cli;

/// <summary>The real <c>vmprobe</c> binary (vmprobe.dll copied next to the tests), run as a child process.</summary>
public class CliProcessTests
{
    private static readonly string VmprobeDll = RepoPaths.VmprobeDll;

    private static (int ExitCode, string Stdout, string Stderr) Vmprobe(string arguments) =>
        Requirements.Run(DotnetHost(), $"\"{VmprobeDll}\" {arguments}");

    [Theory]
    [InlineData("--bogus", "unknown argument '--bogus'")]
    [InlineData("", "--config FILE is required")]
    [InlineData("--config", "--config needs a value")]
    [InlineData("--config x.yaml --log-level loud", "unknown level 'loud'")]
    [InlineData("--config x.yaml --once --check", "--once and --check exclude each other")]
    public void BadArgumentsPrintTheReasonAndUsageAndExit2(string arguments, string reason)
    {
        var (exit, stdout, stderr) = Vmprobe(arguments);

        Assert.Equal(2, exit);
        Assert.Contains(reason, stderr, StringComparison.Ordinal);
        Assert.Contains("Usage: vmprobe --config FILE", stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stdout);
    }

    [Fact]
    public void VersionPrintsTheManifestVersion()
    {
        var (exit, stdout, _) = Vmprobe("--version");

        Assert.Equal(0, exit);
        Assert.Equal($"vmprobe {ProbeInfo.Version}", stdout.Trim());
        Assert.Matches(@"^\d+\.\d+\.\d+", ProbeInfo.Version);
    }

    [Fact]
    public void HelpPrintsUsageOnStdoutAndExit0()
    {
        var (exit, stdout, stderr) = Vmprobe("--help");

        Assert.Equal(0, exit);
        Assert.Contains("--log-level LEVEL", stdout, StringComparison.Ordinal);
        Assert.Contains("Exit codes: 0 success", stdout, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stderr);
    }

    [SkippableFact]
    public void SigtermDuringARunFinishesTheCycleAndExits0()
    {
        var dir = Directory.CreateTempSubdirectory("vmprobe-cli-");
        try
        {
            var endpoint = Path.Combine(dir.FullName, "vmprobe.prom");
            var config = Path.Combine(dir.FullName, "vmprobe.yaml");
            File.WriteAllText(config, $"endpoint: {endpoint}\ndelay: 500\nurl: test:///default\n");

            var check = Vmprobe($"--config \"{config}\" --check");
            Skip.If(check.Stderr.Contains("no configuration loader wired in", StringComparison.Ordinal),
                "the config loader is not wired into vmprobe yet (DefaultWiring.LoadConfig)");
            Assert.True(check.ExitCode == 0, check.Stderr);

            var psi = new ProcessStartInfo(DotnetHost())
            {
                ArgumentList = { VmprobeDll, "--config", config, "--log-level", "debug" },
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(psi)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();

            // Wait (bounded) until the loop has written a cycle, so the signal lands in a running loop.
            var deadline = Environment.TickCount64 + 60_000;
            while (!File.Exists(endpoint) && !process.HasExited && Environment.TickCount64 < deadline)
            {
                Thread.Sleep(50);
            }

            Assert.True(File.Exists(endpoint), "no cycle was written: " + (process.HasExited ? stderr.Result : "still running"));
            Assert.Equal(0, kill(process.Id, SIGTERM));
            if (!process.WaitForExit(60_000))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail("vmprobe did not stop after SIGTERM");
            }

            Assert.True(process.ExitCode == 0, stderr.Result);
            Assert.Contains("stopped after", stderr.Result, StringComparison.Ordinal);
            _ = stdout.Result;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
            ? host
            : Requirements.FindCommand("dotnet") ?? "dotnet";

    private const int SIGTERM = 15;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
