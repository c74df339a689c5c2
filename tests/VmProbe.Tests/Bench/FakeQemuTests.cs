using System.Diagnostics;
using VmProbe.Config;
using VmProbe.Procfs;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Bench;

/// <summary>
/// The benchmark's fake QEMU (bench/fakeqemu.c) must be found by the real process discovery exactly like a QEMU
/// process, or bench/run would measure a probe that sees no VMs.
/// </summary>
public class FakeQemuTests
{
    [SkippableFact]
    public void ScanDomains_FindsFakeQemu_WithNameUuidAndVcpuThreads()
    {
        var gcc = Requirements.FindCommand("gcc");
        Skip.If(gcc is null, "gcc is not installed: cannot build bench/fakeqemu.c");
        var source = FindBenchSource("fakeqemu.c");
        Skip.If(source is null, "bench/fakeqemu.c is missing from the repository checkout");

        var dir = Directory.CreateTempSubdirectory("vmprobe-fakeqemu-");
        try
        {
            // The scanner matches the executable's name, so the binary itself is called qemu-system-x86_64.
            var exe = Path.Combine(dir.FullName, "qemu-system-x86_64");
            var build = Requirements.Run(gcc!, $"-O2 -Wall -pthread -o \"{exe}\" \"{source}\"");
            Assert.True(build.ExitCode == 0, "gcc failed: " + build.Stderr);

            var uuid = Guid.NewGuid();
            var psi = new ProcessStartInfo(exe) { UseShellExecute = false, RedirectStandardOutput = true };
            foreach (var arg in new[] { "-name", "guest=bench-vm1,debug-threads=on", "-uuid", uuid.ToString(), "-smp", "2", "-m", "128", "-fake-seconds", "60" })
            {
                psi.ArgumentList.Add(arg);
            }

            using var fake = Process.Start(psi)!;
            try
            {
                // "ready PID" is printed once every thread has named itself.
                Assert.Equal($"ready {fake.Id}", fake.StandardOutput.ReadLine());

                var domain = QemuProcessScanner.ScanDomains().SingleOrDefault(d => d.Pid == fake.Id);
                Assert.NotNull(domain);
                Assert.Equal("bench-vm1", domain!.Name);
                Assert.Equal(uuid, domain.Uuid);
                Assert.Equal("process", domain.Uri);

                var vcpuThreads = Directory.GetDirectories($"/proc/{fake.Id}/task")
                    .Select(t => (Tid: int.Parse(Path.GetFileName(t)), Comm: File.ReadAllText(Path.Combine(t, "comm")).TrimEnd('\n')))
                    .Where(t => t.Comm.StartsWith("CPU ", StringComparison.Ordinal))
                    .ToDictionary(t => t.Comm, t => t.Tid);
                Assert.Equal(2, domain.Vcpus.Count);
                Assert.Equal(0, domain.Vcpus[0].Index);
                Assert.Equal(vcpuThreads["CPU 0/KVM"], domain.Vcpus[0].ThreadId);
                Assert.Equal(1, domain.Vcpus[1].Index);
                Assert.Equal(vcpuThreads["CPU 1/KVM"], domain.Vcpus[1].ThreadId);
                Assert.NotEqual(fake.Id, domain.Vcpus[0].ThreadId);
            }
            finally
            {
                fake.Kill();
                fake.WaitForExit();
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [SkippableFact]
    public void BenchConfig_LoadsAsProcessDiscoveryWithFourSoftwareEvents()
    {
        var template = FindBenchSource("vmprobe-bench.yaml");
        Skip.If(template is null, "bench/vmprobe-bench.yaml is missing from the repository checkout");
        var text = File.ReadAllText(template!).Replace("@DELAY@", "200").Replace("@ENDPOINT@", "/tmp/bench/vmprobe.prom");

        var result = ConfigLoader.Parse(text, template!);

        Assert.Empty(result.Warnings);
        Assert.Equal(200, result.Config.DelayMs);
        Assert.Equal("/tmp/bench/vmprobe.prom", result.Config.Endpoint);
        Assert.Equal(DomainDiscovery.Process, result.Config.Discovery);
        Assert.Equal(PerfAttribution.Thread, result.Config.Attribution);
        Assert.Equal(new[] { "task_clock", "context_switches", "page_faults", "cpu_migrations" }, result.Config.Events.Select(e => e.CanonicalName));
    }

    private static string? FindBenchSource(string name)
    {
        var path = RepoPaths.File(Path.Combine("bench", name));
        return File.Exists(path) ? path : null;
    }
}
