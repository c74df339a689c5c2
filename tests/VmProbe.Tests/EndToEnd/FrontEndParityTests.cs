using System.Text.RegularExpressions;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.EndToEnd;

/// <summary>
/// The two front ends run one engine: for the same config against a real libvirtd with a QEMU domain, the file of
/// <c>Start-VmProbe -Once</c> (in a real pwsh) and that of <c>vmprobe --once</c> hold the same metric families.
/// </summary>
[Collection(LibvirtdCollection.Name)]
public class FrontEndParityTests
{
    private readonly LibvirtdHost _host;

    public FrontEndParityTests(LibvirtdHost host) => _host = host;

    [SkippableTheory]
    [InlineData("labelled", "thread")]
    [InlineData("legacy", "thread")]
    public void StartVmProbeOnceAndVmprobeOnceWriteTheSameFamilies(string naming, string attribution)
    {
        Skip.IfNot(_host.Available, _host.SkipReason);
        Skip.IfNot(Pwsh.IsAvailable, Pwsh.UnavailableReason);
        Skip.IfNot(File.Exists(RepoPaths.VmprobeDll), $"the runner is not built at {RepoPaths.VmprobeDll}");
        using var domain = _host.StartDomain(LibvirtdHost.UniqueName("parity"));
        var dir = Directory.CreateTempSubdirectory("vmprobe-parity-").FullName;
        try
        {
            // delay 4000: libvirt's deadline is half the delay, and a loaded libvirtd must answer within it in both runs.
            string Config(string name)
            {
                var path = Path.Combine(dir, name + ".yaml");
                File.WriteAllText(path, $"""
                    endpoint: {Path.Combine(dir, name, "vmprobe.prom")}
                    url: {LibvirtdHost.Uri}
                    delay: 4000
                    naming: {naming}
                    attribution: {attribution}
                    perfsoftware: [task-clock, context-switches]
                    """);
                return path;
            }

            var runnerConfig = Config("runner");
            var moduleConfig = Config("module");
            var runner = Requirements.Run("dotnet", $"\"{RepoPaths.VmprobeDll}\" --config \"{runnerConfig}\" --once");
            Assert.True(runner.ExitCode == 0, $"vmprobe --once exited {runner.ExitCode}: {runner.Stderr}");
            var module = Pwsh.Run($"Start-VmProbe -ConfigPath '{moduleConfig}' -Once");
            Assert.True(module.ExitCode == 0, $"Start-VmProbe -Once exited {module.ExitCode}: {module.Stderr}{module.Stdout}");

            var runnerFile = File.ReadAllText(Path.Combine(dir, "runner", "vmprobe.prom"));
            var moduleFile = File.ReadAllText(Path.Combine(dir, "module", "vmprobe.prom"));
            var runnerFamilies = Families(runnerFile, domain.Name);
            Assert.Contains(runnerFamilies, f => f.Contains("probe_", StringComparison.Ordinal));
            Assert.Contains(runnerFamilies, f => f.Contains("perf", StringComparison.Ordinal));
            Assert.Contains(runnerFamilies, f => f.Contains(naming == "legacy" ? "cpu" : "sched", StringComparison.Ordinal));
            var moduleFamilies = Families(moduleFile, domain.Name);
            Assert.True(runnerFamilies.SetEquals(moduleFamilies),
                $"only vmprobe --once: {string.Join(", ", runnerFamilies.Except(moduleFamilies))}; only Start-VmProbe -Once: {string.Join(", ", moduleFamilies.Except(runnerFamilies))}");
            // Both saw the test's domain (the host's libvirtd may hold others).
            Assert.Contains(domain.Name, runnerFile, StringComparison.Ordinal);
            Assert.Contains(domain.Name, moduleFile, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// "name type" of every family about the host, the probe or <paramref name="domain"/>: a family only about other
    /// domains (another test's, which may come or go between the two runs) is left out. Legacy names carry the domain.
    /// </summary>
    private static SortedSet<string> Families(string exposition, string domain)
    {
        var legacyDomain = Regex.Replace(domain, "[^A-Za-z0-9]", "_");
        var families = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Match type in Regex.Matches(exposition, @"(?m)^# TYPE (\S+) (\S+)$"))
        {
            var name = type.Groups[1].Value;
            var series = Regex.Matches(exposition, $@"(?m)^{Regex.Escape(name)}(\{{.*\}})? ").Select(m => m.Value).ToList();
            var aboutDomains = name.Contains("_domain_", StringComparison.Ordinal) || series.Any(s => s.Contains("domain=", StringComparison.Ordinal));
            if (!aboutDomains || name.Contains(legacyDomain, StringComparison.Ordinal) || series.Any(s => s.Contains($"domain=\"{domain}\"", StringComparison.Ordinal)))
            {
                families.Add(name + " " + type.Groups[2].Value);
            }
        }

        return families;
    }
}
