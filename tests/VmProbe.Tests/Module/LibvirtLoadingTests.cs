using System.Diagnostics;
using VmProbe.Native;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Module;

/// <summary>
/// libvirt is loaded at first use, not at import: a missing libvirt.so.0 becomes one clear message then (shown here
/// through the real vmprobe binary in a child process).
/// </summary>
public class LibvirtLoadingTests
{
    [Fact]
    public void LoadFailureMessagesNameTheLibraryAndTheVariable()
    {
        var missing = LibvirtLibrary.DescribeLoadFailure("/nonexistent/x.so");
        var notLibvirt = LibvirtLibrary.DescribeLoadFailure("/etc/hostname");
        var none = LibvirtLibrary.DescribeLoadFailure(null);

        Assert.Contains("VMPROBE_LIBVIRT_PATH=/nonexistent/x.so does not exist", missing, StringComparison.Ordinal);
        Assert.Contains("libvirt.so.0", missing, StringComparison.Ordinal);
        Assert.Contains("VMPROBE_LIBVIRT_PATH=/etc/hostname could not be loaded as libvirt.so.0", notLibvirt, StringComparison.Ordinal);
        Assert.StartsWith("libvirt.so.0 not found", none, StringComparison.Ordinal);
        Assert.Contains("VMPROBE_LIBVIRT_PATH", none, StringComparison.Ordinal);
        Assert.All(new[] { missing, notLibvirt, none }, m => Assert.DoesNotContain('\n', m));
    }

    [SkippableTheory]
    [InlineData("/nonexistent/libvirt.so.0", "does not exist")]
    [InlineData("/etc/hostname", "could not be loaded as libvirt.so.0")]
    public void MissingLibvirtAtFirstUseIsOneClearLineAndTheHostMetricsAreStillWritten(string libvirtPath, string reason)
    {
        Skip.IfNot(File.Exists(RepoPaths.VmprobeDll), $"the runner is not built at {RepoPaths.VmprobeDll}");
        var dir = Directory.CreateTempSubdirectory("vmprobe-nolibvirt-");
        try
        {
            var endpoint = Path.Combine(dir.FullName, "vmprobe.prom");
            var config = Path.Combine(dir.FullName, "vmprobe.yaml");
            File.WriteAllText(config, $"endpoint: {endpoint}\nurl: test:///default\ndiscovery: libvirt\n");

            var (exit, stderr) = RunVmprobe(libvirtPath, "--config", config, "--once");

            Assert.True(exit == 0, stderr);
            Assert.True(File.Exists(endpoint), stderr);
            var text = File.ReadAllText(endpoint);
            Assert.Matches(@"(?m)^vmprobe_host_cpu_seconds_total\{", text);
            Assert.True(ErrorCount(text, "libvirt_discovery") > 0, text);
            Assert.True(ErrorCount(text, "libvirt") > 0, text);

            // The full explanation once; other libvirt parts refer back to it.
            var lines = stderr.Split('\n');
            var explaining = lines.Where(l => l.Contains("VMPROBE_LIBVIRT_PATH", StringComparison.Ordinal)).ToArray();
            Assert.True(explaining.Length == 1, stderr);
            Assert.Contains("libvirt.so.0", explaining[0], StringComparison.Ordinal);
            Assert.Contains($"VMPROBE_LIBVIRT_PATH={libvirtPath}", explaining[0], StringComparison.Ordinal);
            Assert.Contains(reason, explaining[0], StringComparison.Ordinal);
            Assert.Contains("[libvirt,LibraryNotFound]", explaining[0], StringComparison.Ordinal);
            Assert.DoesNotContain("DllNotFoundException", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("TypeInitializationException", stderr, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static double ErrorCount(string exposition, string source)
    {
        var match = System.Text.RegularExpressions.Regex.Match(
            exposition, $@"(?m)^vmprobe_probe_errors_total\{{source=""{source}""\}} (\S+)$");
        Assert.True(match.Success, $"no probe_errors_total for source {source}");
        return double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static (int ExitCode, string Stderr) RunVmprobe(string libvirtPath, params string[] arguments)
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path)
            ? path
            : Requirements.FindCommand("dotnet") ?? "dotnet";
        var psi = new ProcessStartInfo(host)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(RepoPaths.VmprobeDll);
        foreach (var argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }

        psi.Environment[LibvirtLibrary.PathVariable] = libvirtPath;
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("vmprobe --once did not exit within 120 s");
        }

        return (process.ExitCode, stderr.Result);
    }
}
