using System.Text.RegularExpressions;
using VmProbe.Config;
using VmProbe.Perf;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Cli;

/// <summary>Issue "Hostile hosts": the real <c>vmprobe</c> binary against hostile configs and a hostile environment (umask, fd limit).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class HostileHostCliTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("vmprobe-hostile-cli-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Dotnet() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
            ? host
            : Requirements.FindCommand("dotnet") ?? "dotnet";

    /// <summary>Runs vmprobe through /bin/sh after <paramref name="prelude"/> (umask, ulimit), so the limits apply to it alone.</summary>
    private static (int ExitCode, string Stdout, string Stderr) Vmprobe(string arguments, string prelude = ":") =>
        Requirements.Run("/bin/sh", $"-c \"{prelude}; exec '{Dotnet()}' '{RepoPaths.VmprobeDll}' {arguments}\"");

    [Theory]
    [InlineData("--check")]
    [InlineData("--once")]
    public void DeeplyNestedYamlIsAConfigErrorNotACrash(string mode)
    {
        var config = Write("nested.yaml", new string('[', 30_000) + "\n");
        var (exit, _, stderr) = Vmprobe($"--config '{config}' {mode}");
        Assert.True(exit == 2, stderr);
        Assert.DoesNotContain("Stack overflow", stderr, StringComparison.Ordinal);
        Assert.Equal($"{config}:1: config: YAML nested more than {ConfigLoader.MaxNestingDepth} levels deep; a config is a mapping of values and lists", stderr.Trim());
    }

    [Fact]
    public void HugeListOfOneRepeatedEventIsRefusedInOneLine()
    {
        var config = Path.Combine(dir, "huge.yaml");
        File.WriteAllText(config, "perfsoftware:\n" + string.Concat(Enumerable.Repeat("  - task-clock\n", 700_000)));
        var (exit, _, stderr) = Vmprobe($"--config '{config}' --check");
        Assert.Equal(2, exit);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("config files larger than 256 KiB are refused", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void ProgramRunningUrlIsRefusedBeforeAnyConnect()
    {
        var marker = Path.Combine(dir, "ran");
        var script = Write("x.sh", $"#!/bin/sh\ntouch '{marker}'\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var config = Write("ext.yaml", $"endpoint: {dir}/out.prom\nurl: qemu+ext:///system?command={script}\n");
        foreach (var mode in new[] { "--check", "--once" })
        {
            var (exit, _, stderr) = Vmprobe($"--config '{config}' {mode}");
            Assert.True(exit == 2, stderr);
            Assert.StartsWith($"{config}:2: url: ", stderr, StringComparison.Ordinal);
            Assert.Contains("runs an external program", stderr, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(marker));
    }

    [SkippableTheory]
    [InlineData("sched:sched_swich", "unknown tracepoint 'sched:sched_swich'; did you mean sched:sched_switch")]
    [InlineData("99999999", "no tracepoint has id 99999999")]
    public void CheckFailsOnTracepointsTheRunCannotOpen(string tracepoint, string expected)
    {
        Skip.If(TracepointResolver.FindTracefs() is null, "tracefs is not mounted");
        var config = Write("tp.yaml", $"endpoint: {dir}/out.prom\nperftracepoint:\n  - sched:sched_switch\n  - {tracepoint}\n");
        var (exit, stdout, stderr) = Vmprobe($"--config '{config}' --check");
        Assert.True(exit == 2, stdout + stderr);
        Assert.StartsWith($"{config}:4: perftracepoint: {expected}", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("configuration OK", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("DIR", "is a directory")]
    [InlineData("FILE/x.prom", "is a file, not a directory")]
    [InlineData("FILE/sub/x.prom", "is a file, not a directory")]
    [InlineData("/proc/vmprobe-no-such/x.prom", "cannot create the directory '/proc/vmprobe-no-such' in '/proc'")]
    [InlineData("/proc/x.prom", "cannot create files in '/proc'")]
    public void CheckFailsOnAnEndpointTheRunCannotWrite(string endpoint, string expected)
    {
        Directory.CreateDirectory(Path.Combine(dir, "d.prom"));
        var file = Write("plain", "x");
        endpoint = endpoint.Replace("DIR", Path.Combine(dir, "d.prom")).Replace("FILE", file);
        var config = Write("ep.yaml", $"delay: 1000\nendpoint: {endpoint}\n");
        var (exit, stdout, stderr) = Vmprobe($"--config '{config}' --check");
        Assert.True(exit == 2, stdout + stderr);
        Assert.StartsWith($"{config}:2: endpoint: ", stderr, StringComparison.Ordinal);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckPassesAnEndpointWhoseDirectoryCanBeCreated()
    {
        var config = Write("ok.yaml", $"endpoint: {dir}/a/b/out.prom\nurl: test:///default\n");
        var (exit, stdout, stderr) = Vmprobe($"--config '{config}' --check");
        Assert.True(exit == 0, stdout + stderr);
        Assert.False(Directory.Exists(Path.Combine(dir, "a")), "--check must not create the directory");
        Assert.Empty(Directory.GetFiles(dir, ".vmprobe-check.*"));
    }

    [Fact]
    public void CreatedDirectoriesAre0755AndTheFile0644UnderUmask077()
    {
        var endpoint = Path.Combine(dir, "a", "b", "vms.prom");
        var config = Write("umask.yaml", $"endpoint: {endpoint}\nurl: test:///default\ndiscovery: libvirt\ndelay: 1000\n");
        var (exit, _, stderr) = Vmprobe($"--config '{config}' --once", prelude: "umask 077");
        Assert.True(exit == 0, stderr);
        const UnixFileMode Dir0755 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        Assert.Equal(Dir0755, File.GetUnixFileMode(Path.Combine(dir, "a")));
        Assert.Equal(Dir0755, File.GetUnixFileMode(Path.Combine(dir, "a", "b")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(endpoint));
    }
    /// <summary>
    /// At a low open-file limit (the runtime alone keeps two fds per loaded assembly) the runner never dies: every
    /// failure is described as EMFILE, a failed source or discovery is counted in probe_errors_total when the file is
    /// written, and libvirt (whose GLib aborts the process without a free fd) is not called without room.
    /// </summary>
    [Fact]
    public void ALowOpenFileLimitNeverCrashesAndEveryFailureIsCountedAsEmfile()
    {
        var url = File.Exists("/run/libvirt/libvirt-sock") ? "qemu:///system" : "test:///default";
        var endpoint = Path.Combine(dir, "out", "vms.prom");
        var config = Write("fd.yaml", $"url: {url}\nendpoint: {endpoint}\ndelay: 1000\n");
        for (var limit = 40; limit <= 64; limit += 4)
        {
            if (File.Exists(endpoint))
            {
                File.Delete(endpoint);
            }

            var (exit, _, stderr) = Vmprobe($"--config '{config}' --once", prelude: $"ulimit -n {limit}");
            var what = $"ulimit -n {limit}: exit {exit}\n{stderr}";
            Assert.True(exit is 0 or 1 or 2, what);
            Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("GLib-ERROR", stderr, StringComparison.Ordinal);
            var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            foreach (var line in lines.Where(l => l.Contains("Could not load file or assembly", StringComparison.Ordinal)
                || l.Contains("OutOfMemoryException", StringComparison.Ordinal)))
            {
                Assert.True(line.Contains("too many open files", StringComparison.Ordinal), what);
            }

            if (!File.Exists(endpoint))
            {
                Assert.True(exit != 0, what);
                Assert.Contains("too many open files", stderr, StringComparison.OrdinalIgnoreCase);
                continue;
            }

            var prom = File.ReadAllText(endpoint);
            var failed = lines.Select(l => Regex.Match(l, @" error source (\S+) failed"))
                .Where(m => m.Success)
                .Select(m => m.Groups[1].Value)
                .Concat(lines.Any(l => Regex.IsMatch(l, @" domain discovery:? \S+ failed")) ? ["discovery"] : [])
                .Distinct();
            foreach (var source in failed)
            {
                var counted = Regex.Match(prom, $"probe_errors_total\\{{source=\"{Regex.Escape(source)}\"\\}} (\\d+)");
                Assert.True(counted.Success && long.Parse(counted.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 1,
                    $"{source} failed but is not counted\n{what}\n{prom}");
            }
        }
    }
}
