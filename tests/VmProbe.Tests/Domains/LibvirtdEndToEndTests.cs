using VmProbe.Config;
using VmProbe.Libvirt;
using VmProbe.Tests.Infrastructure;
using Xunit;
using VmProbe.Composition;

namespace VmProbe.Tests.Domains;

/// <summary>
/// The whole probe (ProbeComposition, default auto discovery, textfile sink) against a real libvirtd with two TCG
/// domains: one spinning its vCPU at 100%, one idle.
/// </summary>
[Collection(LibvirtdCollection.Name)]
public class LibvirtdEndToEndTests
{
    private readonly LibvirtdHost _host;

    public LibvirtdEndToEndTests(LibvirtdHost host) => _host = host;

    [SkippableFact]
    public void TwoDomains_SeriesAndLabels_SpinningVcpuRuns_DestroyedDomainDisappears()
    {
        Skip.IfNot(_host.Available, _host.SkipReason);
        Skip.IfNot(Promtool.IsAvailable, Promtool.UnavailableReason);
        using var spinning = _host.StartDomain(LibvirtdHost.UniqueName("spin-a"), spinning: true);
        using var idle = _host.StartDomain(LibvirtdHost.UniqueName("idle b.c"));
        var spinUuid = spinning.Uuid.ToString();
        var idleUuid = idle.Uuid.ToString();

        var dir = Directory.CreateTempSubdirectory("vmprobe-e2e-").FullName;
        try
        {
            var endpoint = Path.Combine(dir, "vmprobe.prom");
            // Cycles are run by hand: the delay only sets libvirt's deadline (half of it), 10 s for a loaded shared libvirtd.
            var config = new ProbeConfig { Url = LibvirtdHost.Uri, Endpoint = endpoint, DelayMs = 20_000 };
            var log = new VmProbe.Tests.Procfs.DomainProcfsSourceTests.ListLog();
            using var composition = ProbeComposition.Create(config, log);
            var loop = new ProbeLoop(composition.CreateCycle(), composition.Sink, log, config.DelayMs);

            List<ExposedSeries> Cycle()
            {
                loop.RunOnceAsync(default).GetAwaiter().GetResult();
                return ExpositionText.Parse(File.ReadAllText(endpoint));
            }

            double Vcpu0(List<ExposedSeries> s, string family, string name, string uuid) =>
                ExpositionText.ValueOf(s, "vmprobe_" + family, ("domain", name), ("uuid", uuid), ("vcpu", "0"))
                ?? throw new Xunit.Sdk.XunitException($"no vCPU 0 {family} series for {name}");

            // Run plus wait: a spinning vCPU is runnable all the time, so this grows with the wall clock even when the
            // host's CPUs are contended (tests of other areas share them), while run alone depends on the contention.
            double Runnable(List<ExposedSeries> s, string name, string uuid) =>
                Vcpu0(s, "domain_vcpu_sched_run_seconds_total", name, uuid) + Vcpu0(s, "domain_vcpu_sched_wait_seconds_total", name, uuid);

            // The counters are read somewhere inside each cycle: from the start of the first cycle to the end of the
            // second bounds their window from above, from the end of the first to the start of the second from below.
            var window = System.Diagnostics.Stopwatch.StartNew();
            var first = Cycle();
            var firstDone = window.Elapsed.TotalSeconds;
            foreach (var (name, uuid) in new[] { (spinning.Name, spinUuid), (idle.Name, idleUuid) })
            {
                foreach (var family in new[]
                {
                    "domain_sched_run_seconds_total", "domain_sched_wait_seconds_total", "domain_sched_timeslices_total",
                    "domain_minor_page_faults_total", "domain_major_page_faults_total", "domain_cpu_guest_seconds_total", "domain_threads",
                })
                {
                    Assert.NotNull(ExpositionText.ValueOf(first, "vmprobe_" + family, ("domain", name), ("uuid", uuid)));
                }

                foreach (var family in new[] { "domain_vcpu_sched_run_seconds_total", "domain_vcpu_sched_wait_seconds_total", "domain_vcpu_sched_timeslices_total" })
                {
                    Assert.NotNull(ExpositionText.ValueOf(first, "vmprobe_" + family, ("domain", name), ("uuid", uuid), ("vcpu", "0")));
                }

                Assert.True(ExpositionText.ValueOf(first, "vmprobe_domain_threads", ("domain", name), ("uuid", uuid)) >= 3);
                Assert.Equal(1, ExpositionText.ValueOf(first, "vmprobe_domain_info", ("domain", name), ("uuid", uuid), ("state", "running")));
            }

            // Our one-vCPU domains have vCPU 0 only (other domains on this libvirtd are not ours to judge).
            Assert.All(first.Where(s => s.Name.StartsWith("vmprobe_domain_", StringComparison.Ordinal) && s.Labels.ContainsKey("vcpu")
                    && s.Labels.TryGetValue("domain", out var domain) && (domain == spinning.Name || domain == idle.Name)),
                s => Assert.Equal("0", s.Labels["vcpu"]));
            Assert.Equal(0, ExpositionText.ValueOf(first, "vmprobe_probe_errors_total", ("source", "libvirt")));
            Assert.Equal(0, ExpositionText.ValueOf(first, "vmprobe_probe_errors_total", ("source", "procfs")));

            // Let about two seconds of run time accumulate; the elapsed time is measured, not assumed.
            Thread.Sleep(2000);
            var secondStart = window.Elapsed.TotalSeconds;
            var second = Cycle();
            var longest = window.Elapsed.TotalSeconds;
            var elapsed = secondStart - firstDone;
            var spinRunnable = Runnable(second, spinning.Name, spinUuid) - Runnable(first, spinning.Name, spinUuid);
            var spinRun = Vcpu0(second, "domain_vcpu_sched_run_seconds_total", spinning.Name, spinUuid) - Vcpu0(first, "domain_vcpu_sched_run_seconds_total", spinning.Name, spinUuid);
            var idleRunnable = Runnable(second, idle.Name, idleUuid) - Runnable(first, idle.Name, idleUuid);
            Assert.True(spinRunnable > 0.7 * elapsed, $"spinning vCPU was runnable {spinRunnable:F3} s of {elapsed:F3} s");
            Assert.True(spinRunnable <= longest + 0.1, $"spinning vCPU was runnable {spinRunnable:F3} s in at most {longest:F3} s");
            Assert.True(spinRun > 0.1 * elapsed, $"spinning vCPU ran {spinRun:F3} s of {elapsed:F3} s");
            Assert.True(idleRunnable < 0.25 * elapsed, $"idle vCPU was runnable {idleRunnable:F3} s of {elapsed:F3} s");

            idle.Dispose();
            var third = Cycle();
            Assert.DoesNotContain(third, s => s.Labels.TryGetValue("domain", out var d) && d == idle.Name);
            Assert.Contains(third, s => s.Name == "vmprobe_domain_threads" && s.Labels["domain"] == spinning.Name);
            var (exit, output) = Promtool.Check(File.ReadAllText(endpoint));
            Assert.True(exit == 0, output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
