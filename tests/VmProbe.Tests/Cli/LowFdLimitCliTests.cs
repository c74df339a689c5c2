using System.Diagnostics;
using System.Runtime.InteropServices;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Cli;

/// <summary>Issue "Hostile hosts": the real <c>vmprobe</c> at an open-file limit where the runtime leaves only a few fds free.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LowFdLimitCliTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("vmprobe-lowfd-cli-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static string Dotnet() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
            ? host
            : Requirements.FindCommand("dotnet") ?? "dotnet";

    /// <summary>
    /// At ulimit -n 64 a signal used to need a new thread (two fds for CoreCLR's start pipe) while the cycles used the
    /// last ones: about one SIGTERM in three ended in "Out of memory." and SIGABRT, and the thread pool's gate thread
    /// sometimes failed to start without any signal. Every SIGTERM, early or late in a cycle, must end with 0 and leave
    /// a whole file.
    /// </summary>
    [Fact]
    public async Task EverySigtermAtUlimit64EndsWithStatus0AndAWholeFile()
    {
        var endpoint = Path.Combine(dir, "out", "vms.prom");
        var config = Path.Combine(dir, "fd.yaml");
        File.WriteAllText(config, $"endpoint: {endpoint}\ndelay: 100\ndiscovery: process\nperfsoftware:\n  - task-clock\n  - context-switches\n");
        var random = new Random(11);
        for (var run = 0; run < 8; run++)
        {
            if (File.Exists(endpoint))
            {
                File.Delete(endpoint);
            }

            var psi = new ProcessStartInfo("/bin/sh")
            {
                ArgumentList = { "-c", $"ulimit -n 64; exec '{Dotnet()}' '{RepoPaths.VmprobeDll}' --config '{config}'" },
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(psi)!;
            var stderr = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            var deadline = Environment.TickCount64 + 60_000;
            while (!File.Exists(endpoint) && !process.HasExited && Environment.TickCount64 < deadline)
            {
                Thread.Sleep(20);
            }

            // Some runs stop in the first cycles, others after a few; the 100 ms grid puts many signals inside a cycle.
            Thread.Sleep(random.Next(0, 900));
            if (process.HasExited)
            {
                Assert.Fail($"run {run}: vmprobe ended before SIGTERM, status {process.ExitCode}\n{await stderr}");
            }

            Assert.Equal(0, kill(process.Id, SIGTERM));
            if (!process.WaitForExit(60_000))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"run {run}: vmprobe did not stop after SIGTERM");
            }

            var log = await stderr;
            Assert.True(process.ExitCode == 0, $"run {run}: status {process.ExitCode}\n{log}");
            Assert.DoesNotContain("Out of memory", log, StringComparison.Ordinal);
            Assert.Contains("stopped after", log, StringComparison.Ordinal);
            var prom = File.ReadAllText(endpoint);
            Assert.EndsWith("\n", prom, StringComparison.Ordinal);
            Assert.Contains("probe_errors_total{source=", prom, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(endpoint)!, ".*"));
        }
    }

    /// <summary>
    /// With no fd left to open the config file (limits in the 40s and 50s here) the failure is the process's, not the
    /// file's: exit 1 with "too many open files" and the file's name, never exit 2 as a config error. The same holds a
    /// few fds later, when <c>--check</c> tries the endpoint (a trial file) and the tracepoints (their id files): a valid
    /// config never gets exit 2 at any limit.
    /// </summary>
    [Fact]
    public void NoFdLeftToReadTheConfigIsARuntimeFailureNamingTheFile()
    {
        var config = Path.Combine(dir, "emfile.yaml");
        File.WriteAllText(config, $"endpoint: {dir}/out.prom\ndelay: 1000\n");
        var configs = new List<string> { config };
        if (VmProbe.Perf.TracepointResolver.FindTracefs() is not null)
        {
            // The host check reads tracefs too; only with a mounted tracefs is this config valid here.
            var traced = Path.Combine(dir, "emfile-tracepoint.yaml");
            File.WriteAllText(traced, $"endpoint: {dir}/sub/out.prom\ndelay: 1000\nperftracepoint: [sched:sched_switch]\n");
            configs.Add(traced);
        }
        else
        {
            Console.WriteLine("LowFdLimitCliTests: tracefs is not mounted, the tracepoint variant of the config is not run");
        }

        var seen = new List<int>();
        foreach (var file in configs)
        {
            for (var limit = 40; limit <= 70; limit++)
            {
                var (exit, _, stderr) = Requirements.Run("/bin/sh", $"-c \"ulimit -n {limit}; exec '{Dotnet()}' '{RepoPaths.VmprobeDll}' --config '{file}' --check\"");
                var what = $"{Path.GetFileName(file)} at ulimit -n {limit}: exit {exit}\n{stderr}";
                Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
                Assert.True(exit != 2, what);
                if (exit == 1)
                {
                    Assert.Contains("too many open files", stderr, StringComparison.Ordinal);
                }

                if (stderr.Contains($"cannot read config file '{file}'", StringComparison.Ordinal))
                {
                    seen.Add(limit);
                    Assert.True(exit == 1, what);
                    Assert.Contains("too many open files (EMFILE)", stderr, StringComparison.Ordinal);
                    Assert.DoesNotContain($"{file}: config:", stderr, StringComparison.Ordinal);
                }
            }
        }

        // The window moves with the runtime's own fds; some limit in the range must have reached the config file.
        Assert.NotEmpty(seen);
    }

    /// <summary>
    /// Below 40 fds the runtime's own thread starts can fail and abort the process (exit 134 at some limits): the runner
    /// refuses before starting anything, with exit 1 and the EMFILE text. Below ~22 the .NET host itself cannot start.
    /// </summary>
    [Fact]
    public void AHardLimitTooLowForTheRuntimeIsRefusedAtOnceWithEmfile()
    {
        var config = Path.Combine(dir, "tiny.yaml");
        File.WriteAllText(config, $"endpoint: {dir}/tiny.prom\ndelay: 1000\n");
        for (var limit = 24; limit < 40; limit += 3)
        {
            var (exit, _, stderr) = Requirements.Run("/bin/sh", $"-c \"ulimit -n {limit}; exec '{Dotnet()}' '{RepoPaths.VmprobeDll}' --config '{config}' --once\"");
            var what = $"ulimit -n {limit}: exit {exit}\n{stderr}";
            Assert.True(exit == 1, what);
            Assert.Contains($"allows at most {limit} open files", stderr, StringComparison.Ordinal);
            Assert.Contains("[EMFILE]", stderr, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(Path.Combine(dir, "tiny.prom")));
    }

    private const int SIGTERM = 15;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
