using System.Diagnostics;
using VmProbe.Composition;
using VmProbe.Config;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.EndToEnd;

/// <summary>
/// <c>vmprobe --once</c> sets up faster than a running probe's first cycle (eBPF loads begun before the first discovery,
/// perf groups opened without ioctls), but must write what a long-running probe writes from its second cycle on:
/// the same series names and labels, on real fake-QEMU processes with the bench's configuration (process discovery,
/// thread attribution, four software events, the default kvmexits/kvm/power sources).
/// </summary>
public class OnceParityTests
{
    [SkippableFact]
    public async Task OnceWritesTheSeriesOfARunningProbesSecondCycle()
    {
        Skip.IfNot(Requirements.IsRoot, "per-thread perf counters of other processes and eBPF need root");
        var gcc = Requirements.FindCommand("gcc");
        Skip.If(gcc is null, "gcc is not installed: cannot build bench/fakeqemu.c");
        var source = RepoPaths.File(Path.Combine("bench", "fakeqemu.c"));
        var template = RepoPaths.File(Path.Combine("bench", "vmprobe-bench.yaml"));
        Skip.IfNot(File.Exists(source) && File.Exists(template), "bench/fakeqemu.c or bench/vmprobe-bench.yaml is missing from the checkout");

        // Not under /tmp: the discovery trusts a QEMU binary only where nobody else can write (every parent included).
        var dir = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, $"vmprobe-test-once-{Environment.ProcessId}"));
        var fakes = new List<Process>();
        try
        {
            // The discovery matches the executable's name, so the binary itself is called qemu-system-x86_64.
            var exe = Path.Combine(dir.FullName, "qemu-system-x86_64");
            var build = Requirements.Run(gcc!, $"-O2 -Wall -pthread -o \"{exe}\" \"{source}\"");
            Assert.True(build.ExitCode == 0, "gcc failed: " + build.Stderr);
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < 2; i++)
            {
                var name = $"vmprobe-test-once-{Environment.ProcessId}-{i}";
                fakes.Add(StartFake(exe, name));
                names.Add(name);
            }

            var once = await WriteCycles(template, Path.Combine(dir.FullName, "once"), cycles: 1);
            var running = await WriteCycles(template, Path.Combine(dir.FullName, "running"), cycles: 2);

            // Other developers' fake VMs may come and go on a shared host: only this test's domains are compared.
            var onceKeys = Keys(once, names);
            var runningKeys = Keys(running, names);
            Assert.Contains(onceKeys, key => key.StartsWith("vmprobe_domain_vcpu_perf_events_total{", StringComparison.Ordinal) && key.Contains(names.First(), StringComparison.Ordinal));
            Assert.Empty(runningKeys.Except(onceKeys)); // nothing a running probe writes is missing from --once
            Assert.Empty(onceKeys.Except(runningKeys));
        }
        finally
        {
            foreach (var fake in fakes)
            {
                fake.Kill();
                fake.WaitForExit();
                fake.Dispose();
            }

            dir.Delete(recursive: true);
        }
    }

    /// <summary>Runs the bench's configuration for <paramref name="cycles"/> cycles (1: what --once runs) and returns the file.</summary>
    private static async Task<string> WriteCycles(string template, string directory, int cycles)
    {
        Directory.CreateDirectory(directory);
        var endpoint = Path.Combine(directory, "vmprobe.prom");
        var text = File.ReadAllText(template).Replace("@DELAY@", "200").Replace("@ENDPOINT@", endpoint);
        var config = ConfigLoader.Parse(text, template).Config;
        using var run = ProbeRun.Start(config, NullProbeLog.Instance);
        if (cycles == 1)
        {
            await run.Loop.RunOnceAsync(CancellationToken.None);
        }
        else
        {
            for (var i = 0; i < cycles; i++)
            {
                Assert.NotNull(await run.Loop.RunNextAsync(CancellationToken.None));
            }
        }

        return File.ReadAllText(endpoint);
    }

    /// <summary>Series identities (name and labels) of the host, the probe and the named domains.</summary>
    private static HashSet<string> Keys(string text, HashSet<string> domains) =>
        ExpositionText.Parse(text)
            .Where(s => !s.Labels.TryGetValue("domain", out var domain) || domains.Contains(domain))
            .Select(s => s.Key)
            .ToHashSet(StringComparer.Ordinal);

    private static Process StartFake(string exe, string name)
    {
        var psi = new ProcessStartInfo(exe) { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var arg in new[] { "-name", $"guest={name},debug-threads=on", "-uuid", Guid.NewGuid().ToString(), "-smp", "4", "-m", "128", "-fake-seconds", "120" })
        {
            psi.ArgumentList.Add(arg);
        }

        var fake = Process.Start(psi)!;
        // "ready PID" is printed once every thread has named itself.
        Assert.Equal($"ready {fake.Id}", fake.StandardOutput.ReadLine());
        return fake;
    }
}
