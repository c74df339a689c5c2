using System.Text.RegularExpressions;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.EndToEnd;

/// <summary>
/// The published runner as users start it (<c>dotnet vmprobe.dll --config FILE ...</c>) on the bundled configs:
/// what it writes must pass promtool and be served by a real node_exporter with <c>node_textfile_scrape_error 0</c>.
/// </summary>
public sealed class VmprobeBinaryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vmprobe-e2e-bin-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public void OnceOnTheExampleConfig_IsPromtoolClean_AndServedByNodeExporter()
    {
        Skip.IfNot(Promtool.IsAvailable, Promtool.UnavailableReason);
        Skip.IfNot(NodeExporterHost.IsAvailable, NodeExporterHost.UnavailableReason);
        Skip.IfNot(Requirements.IsRoot, "system-wide perf counters and tracefs need root");
        var endpoint = Path.Combine(_dir, "vmprobe.prom");

        // The bundled example as shipped, pointed at a temporary endpoint and at libvirt's built-in test driver
        // (one running domain "test"), so the run does not depend on what runs on this host.
        var config = WriteConfig("vmprobe.yaml", File.ReadAllText(RepoPaths.File("config/vmprobe.yaml")), endpoint, delayMs: 300, url: "test:///default");

        var run = Vmprobe($"--config \"{config}\" --once");

        Assert.True(run.ExitCode == 0, run.Stderr);
        var text = File.ReadAllText(endpoint);
        var (lint, lintOutput) = Promtool.Check(text);
        Assert.True(lint == 0 && lintOutput.Trim().Length == 0, $"promtool check metrics: exit {lint}: {lintOutput}");

        using var exporter = NodeExporterHost.Start(_dir);
        var scrape = exporter.Scrape();
        Assert.Equal(0, scrape.TextfileScrapeError);
        Assert.NotNull(scrape.ValueOf("vmprobe_host_cpu_seconds_total", ("mode", "user")));
        Assert.Equal(1, scrape.ValueOf("vmprobe_domain_info", ("domain", "test"), ("uuid", TestDomainUuid()), ("state", "running")));
        Assert.Equal(1, scrape.ValueOf("vmprobe_probe_event_supported", ("event", "task_clock")));
        Assert.Equal(1, scrape.ValueOf("vmprobe_probe_event_supported", ("event", "sched:sched_switch")));
        Assert.True(scrape.ValueOf("vmprobe_host_perf_events_total", ("event", "task_clock")) > 0);

        // The hardware event of the example: counted where a PMU exists, reported unsupported (and logged) where not.
        var instructions = scrape.ValueOf("vmprobe_probe_event_supported", ("event", "instructions"));
        Assert.NotNull(instructions);
        if (instructions == 0)
        {
            Assert.Contains("'instructions'", run.Stderr, StringComparison.Ordinal);
            Assert.Null(scrape.ValueOf("vmprobe_host_perf_events_total", ("event", "instructions")));
        }

        // Everything the file holds is served: node_exporter drops duplicates and clashing families silently.
        var written = ExpositionText.Parse(text).Select(s => s.Key).ToHashSet();
        var served = scrape.WithPrefix("vmprobe_").Select(s => s.Key).ToHashSet();
        Assert.Empty(written.Except(served));
        Assert.Empty(exporter.ErrorLog);
    }

    [SkippableFact]
    public void TheCppVmprobeConfigFile_IsAcceptedUnchanged()
    {
        Skip.IfNot(Promtool.IsAvailable, Promtool.UnavailableReason);
        var legacy = RepoPaths.File("config/legacy-vmprobe.yaml");

        var check = Vmprobe($"--config \"{legacy}\" --check");

        Assert.True(check.ExitCode == 0, check.Stderr);
        Assert.Matches(@"(?m)^prefix:\s+example$", check.Stdout);
        Assert.Matches(@"(?m)^endpoint:\s+/var/lib/node_exporter/textfile_collector/vms\.prom$", check.Stdout);
        Assert.Contains("page_faults", check.Stdout, StringComparison.Ordinal);

        // The same file with only its endpoint (and URL) moved runs a cycle whose names carry its prefix.
        var endpoint = Path.Combine(_dir, "vms.prom");
        var config = WriteConfig("legacy.yaml", File.ReadAllText(legacy), endpoint, delayMs: 300, url: "test:///default");
        var once = Vmprobe($"--config \"{config}\" --once");
        Assert.True(once.ExitCode == 0, once.Stderr);
        var series = ExpositionText.Parse(File.ReadAllText(endpoint));
        Assert.NotEmpty(series);
        Assert.All(series, s => Assert.StartsWith("example_", s.Name, StringComparison.Ordinal));
        Assert.Equal(0, Promtool.Check(File.ReadAllText(endpoint)).ExitCode);
    }

    [Fact]
    public void ABadConfig_NamesFileLineAndKey_AndExits2_WithoutTouchingTheEndpoint()
    {
        var endpoint = Path.Combine(_dir, "kept.prom");
        File.WriteAllText(endpoint, "previous 1\n");
        var config = Path.Combine(_dir, "bad.yaml");
        File.WriteAllText(config, $"prefix: vmprobe\nendpoint: {endpoint}\ndelay: 50\nperfsoftware: task-clock, cycels\nnot_a_key: 1\n");

        var run = Vmprobe($"--config \"{config}\" --once");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"{config}:3: delay", run.Stderr, StringComparison.Ordinal);
        Assert.Contains($"{config}:4: perfsoftware", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("did you mean", run.Stderr, StringComparison.Ordinal);
        Assert.Equal("previous 1\n", File.ReadAllText(endpoint));
    }

    private string WriteConfig(string name, string template, string endpoint, int delayMs, string url)
    {
        // Works for both forms of config: "key: value" (YAML) and "key=value" (the C++ vmprobe's file).
        string Replace(string text, string key, string value)
        {
            var pattern = new Regex($@"(?m)^{key}(\s*[:=]\s*).*$");
            Assert.Matches(pattern, text);
            return pattern.Replace(text, m => key + m.Groups[1].Value + value, 1);
        }

        var text = Replace(Replace(Replace(template, "endpoint", endpoint), "delay", delayMs.ToString(System.Globalization.CultureInfo.InvariantCulture)), "url", url);
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string TestDomainUuid()
    {
        var virsh = Requirements.FindCommand("virsh");
        Skip.If(virsh is null, "virsh is not installed (Debian package 'libvirt-clients')");
        var result = Requirements.Run(virsh!, "-c test:///default domuuid test");
        Assert.Equal(0, result.ExitCode);
        return result.Stdout.Trim();
    }

    private static (int ExitCode, string Stdout, string Stderr) Vmprobe(string arguments) =>
        Requirements.Run(Requirements.FindCommand("dotnet") ?? "dotnet", $"\"{RepoPaths.VmprobeDll}\" {arguments}", timeoutMs: 120_000);
}
