using System.Text.RegularExpressions;
using VmProbe.Tests.Bpf;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.EndToEnd;

/// <summary>
/// The runner as <c>setup.sh</c> publishes it (NativeAOT, issue #14: no JIT warm-up): it must publish without trim or
/// AOT warnings and do in one native binary what the JIT build does, including what AOT can break: the assembly
/// preload, libvirt and libbpf loaded by soname (NativeLibrary), the embedded BPF object, YamlDotNet's parser.
/// </summary>
public sealed class NativeAotRunnerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vmprobe-aot-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public void PublishedNativeAotRunner_RunsOnceOnLibvirtWithKvmExits_WithoutWarnings()
    {
        Skip.If(Requirements.FindCommand("clang") is null && Requirements.FindCommand("gcc") is null,
            "no C linker (clang or gcc) for NativeAOT: setup.sh publishes the framework-dependent runner here");
        Skip.IfNot(Requirements.IsRoot, "perf counters and the eBPF exit counter need root");
        var binary = Publish();

        Assert.Equal("\u007fELF"u8.ToArray(), File.ReadAllBytes(binary)[..4]);
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(binary)!, "vmprobe.dll")), "a framework-dependent build, not NativeAOT");

        var endpoint = Path.Combine(_dir, "out.prom");
        var config = Path.Combine(_dir, "aot.yaml");
        File.WriteAllText(config, $"prefix: vmprobe\ndelay: 300\nendpoint: {endpoint}\nurl: test:///default\ndiscovery: libvirt\n" +
            "perfsoftware: [task-clock]\nperfhardware: []\nperfhardwarecache: []\nperftracepoint: []\nkvmexits: counts\n");

        var run = Requirements.Run(binary, $"--config \"{config}\" --once --log-level warning", timeoutMs: 60_000);

        Assert.True(run.ExitCode == 0, run.Stderr);
        // The JIT-only assembly preload once warned on every start of the AOT binary.
        Assert.DoesNotContain("Cannot load assembly", run.Stderr, StringComparison.Ordinal);
        var text = File.ReadAllText(endpoint);
        Assert.Matches(new Regex("(?m)^vmprobe_domain_info\\{domain=\"test\",[^}]*state=\"running\"\\} 1$"), text);
        Assert.Matches(new Regex("(?m)^vmprobe_probe_event_supported\\{event=\"task_clock\"\\} 1$"), text);
        if (BpfHost.Available)
        {
            Assert.Contains("vmprobe_probe_kvm_exits_mode_info{mode=\"bpf-counts\",requested=\"counts\"} 1", text, StringComparison.Ordinal);
        }

        if (Promtool.IsAvailable)
        {
            var (lint, output) = Promtool.Check(text);
            Assert.True(lint == 0, $"promtool check metrics: exit {lint}: {output}");
        }
    }

    /// <summary>setup.sh's publish command, into this test's folder (its own obj/bin: the test run's build is not touched).</summary>
    private string Publish()
    {
        var output = Path.Combine(_dir, "vmprobe");
        var project = RepoPaths.File("src/VmProbe.Cli");
        var publish = Requirements.Run(Requirements.FindCommand("dotnet") ?? "dotnet",
            $"publish \"{project}\" -c Release -r linux-x64 -p:PublishAot=true -o \"{output}\" --artifacts-path \"{Path.Combine(_dir, "artifacts")}\" --nologo",
            timeoutMs: 900_000);
        var log = publish.Stdout + publish.Stderr;
        // Where NuGet does not serve the ILCompiler packages, setup.sh falls back to the JIT build; so does this test.
        Skip.If(publish.ExitCode != 0 && Regex.IsMatch(log, "NU1101|NU1102|NU1301"),
            $"the NativeAOT packages cannot be restored here: {Regex.Match(log, ".*NU1(101|102|301).*").Value.Trim()}");
        Assert.True(publish.ExitCode == 0, log);
        Assert.DoesNotMatch(new Regex("warning (IL|CS)[0-9]+"), log);
        return Path.Combine(output, "vmprobe");
    }
}
