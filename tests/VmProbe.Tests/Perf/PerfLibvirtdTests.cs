using System.Diagnostics;
using VmProbe.Config;
using VmProbe.Perf;
using VmProbe.Procfs;
using VmProbe.Tests.Infrastructure;
using Xunit;
using static VmProbe.Tests.Perf.PerfMetricsSourceTests;

namespace VmProbe.Tests.Perf;

/// <summary>The perf source on real QEMU/TCG domains of a real libvirtd.</summary>
[Collection(LibvirtdCollection.Name)]
public class PerfLibvirtdTests
{
    private readonly LibvirtdHost host;

    public PerfLibvirtdTests(LibvirtdHost host) => this.host = host;

    [SkippableFact]
    public void SpinningDomainsTaskClockGrowsByAboutOneCpuSecondPerSecondAndTheIdleOnesFarLess()
    {
        Skip.IfNot(host.Available, host.SkipReason);
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        using var spinning = host.StartDomain(LibvirtdHost.UniqueName("perf-spin"), spinning: true);
        using var idle = host.StartDomain(LibvirtdHost.UniqueName("perf-idle"));
        using var inspector = new QemuProcessInspector();
        var domains = new[] { spinning, idle }
            .Select(d => inspector.CreateDomain(d.Pid, d.Name, d.Uuid, LibvirtdHost.Uri) ?? throw new InvalidOperationException($"cannot inspect QEMU pid {d.Pid} of {d.Name}"))
            .ToArray();
        Assert.All(domains, d => Assert.Equal(0, Assert.Single(d.Vcpus).Index));
        Assert.All(domains, d => Assert.True(d.Vcpus[0].ThreadId > 0, $"{d.Name}: no CPU 0/TCG thread found"));

        using var source = new PerfMetricsSource(PerfMetricsSourceTests.Config(PerfAttribution.Thread, "task-clock", "context-switches"), NullProbeLog.Instance);
        source.Prepare(Context(domains));
        var first = Collect(source, domains);
        var wall = Stopwatch.StartNew();
        Thread.Sleep(2000);
        var second = Collect(source, domains);
        var elapsedNs = wall.Elapsed.TotalMilliseconds * 1e6;

        double Delta(string family, params string[] labels) => Value(second, family, labels) - Value(first, family, labels);
        var spin = domains[0];
        var quiet = domains[1];
        var spinVcpu = Delta("domain_vcpu_perf_events_total", spin.Name, spin.Uuid.ToString("D"), "0", "task_clock");
        var spinTotal = Delta("domain_perf_events_total", spin.Name, spin.Uuid.ToString("D"), "task_clock");
        var idleTotal = Delta("domain_perf_events_total", quiet.Name, quiet.Uuid.ToString("D"), "task_clock");

        // Two cores shared with other work: the spinning vCPU gets most of one, not necessarily all of it.
        Assert.InRange(spinVcpu, 0.3 * elapsedNs, 1.1 * elapsedNs);
        Assert.True(spinTotal >= spinVcpu, $"domain total {spinTotal} < its vCPU {spinVcpu}");
        Assert.True(idleTotal < spinVcpu / 4, $"idle domain {idleTotal / 1e6:0} ms, spinning vCPU {spinVcpu / 1e6:0} ms over {elapsedNs / 1e6:0} ms");
        Assert.True(Delta("domain_perf_events_total", quiet.Name, quiet.Uuid.ToString("D"), "context_switches") >= 0);
    }
}
