using VmProbe.Config;
using VmProbe.Perf;
using VmProbe.Tests.Infrastructure;
using Xunit;
using VmProbe.Composition;

namespace VmProbe.Tests.EndToEnd;

/// <summary>
/// The whole probe as the runner builds it (ProbeComposition, auto discovery, every source, the textfile sink) with
/// software events, a tracepoint and a hardware event, over real QEMU/TCG domains that come and go.
/// </summary>
[Collection(LibvirtdCollection.Name)]
public sealed class PerfChurnEndToEndTests
{
    private readonly LibvirtdHost _host;

    public PerfChurnEndToEndTests(LibvirtdHost host) => _host = host;

    [SkippableFact]
    public void PerVmAndPerVcpuPerfSeries_DomainsComingAndGoing_NoFdLeak_ServedClean()
    {
        Skip.IfNot(_host.Available, _host.SkipReason);
        Skip.IfNot(Promtool.IsAvailable, Promtool.UnavailableReason);
        Skip.IfNot(NodeExporterHost.IsAvailable, NodeExporterHost.UnavailableReason);
        using var steady = _host.StartDomain(LibvirtdHost.UniqueName("churn-steady"), spinning: true);
        var dir = Directory.CreateTempSubdirectory("vmprobe-e2e-perf-").FullName;
        var perfFdsBefore = Requirements.OpenPerfEventFdCount();
        try
        {
            var endpoint = Path.Combine(dir, "vmprobe.prom");
            var events = new[] { "task-clock", "context-switches", "sched:sched_switch", "instructions" }.Select(n => PerfEventCatalog.Parse(n)).ToArray();
            // Cycles are run by hand: the delay only sets libvirt's deadline (half of it), which a loaded libvirtd needs long.
            // kvmexits off: its perf-filter fallback opens kvm:kvm_exit fds of its own, which this count of the perf source's fds leaves out.
            var config = new ProbeConfig { Url = LibvirtdHost.Uri, Endpoint = endpoint, DelayMs = 20_000, Events = events, KvmExits = VmProbe.Kvm.Exits.KvmExitsMode.Off };
            var log = new Procfs.DomainProcfsSourceTests.ListLog();
            using (var composition = ProbeComposition.Create(config, log))
            {
                var cycle = composition.CreateCycle();
                cycle.Prepare(CancellationToken.None);

                List<ExposedSeries> Cycle()
                {
                    composition.Sink.Export(cycle.Collect(CancellationToken.None));
                    return ExpositionText.Parse(File.ReadAllText(endpoint));
                }

                double? Perf(List<ExposedSeries> s, LibvirtdTestDomain d, string family, string evt, string? vcpu = null) => vcpu is null
                    ? ExpositionText.ValueOf(s, "vmprobe_" + family, ("domain", d.Name), ("uuid", d.Uuid.ToString()), ("event", evt))
                    : ExpositionText.ValueOf(s, "vmprobe_" + family, ("domain", d.Name), ("uuid", d.Uuid.ToString()), ("vcpu", vcpu), ("event", evt));

                Thread.Sleep(config.DelayMs);
                var first = Cycle();
                Assert.True(Perf(first, steady, "domain_perf_events_total", "task_clock") > 0, "no task_clock for the spinning domain");
                Assert.True(Perf(first, steady, "domain_vcpu_perf_events_total", "task_clock", vcpu: "0") > 0, "no per-vCPU task_clock");
                Assert.NotNull(Perf(first, steady, "domain_perf_events_total", "sched:sched_switch"));
                Assert.Equal(1, ExpositionText.ValueOf(first, "vmprobe_probe_event_supported", ("event", "task_clock")));
                Assert.Equal(1, ExpositionText.ValueOf(first, "vmprobe_probe_event_supported", ("event", "sched:sched_switch")));
                var instructionsSupported = ExpositionText.ValueOf(first, "vmprobe_probe_event_supported", ("event", "instructions"));
                Assert.NotNull(instructionsSupported);
                if (instructionsSupported == 0)
                {
                    Assert.Null(Perf(first, steady, "domain_perf_events_total", "instructions"));
                    Assert.Single(log.Lines, l => l.Contains("'instructions'", StringComparison.Ordinal));
                }

                var supportedEvents = first.Count(s => s.Name == "vmprobe_probe_event_supported" && s.Value == 1);

                // Every open perf fd is accounted for: one per supported event per online CPU (host) and per thread of
                // each domain the cycle found (ours, and any other domain on this libvirtd). QEMU starts and ends worker
                // threads by itself, so a mismatch is re-checked after another cycle (which syncs threads); a leak stays,
                // a race does not.
                void AssertPerfFdsAreTheHostsAndThoseOf(params LibvirtdTestDomain[] ours)
                {
                    Assert.All(ours, d => Assert.Contains(cycle.LastDomains, found => found.Name == d.Name));
                    int expected = 0, actual = 0;
                    for (var attempt = 0; attempt < 4; attempt++)
                    {
                        if (attempt > 0)
                        {
                            Cycle();
                        }

                        var threads = cycle.LastDomains.Where(d => d.Pid > 0 && Directory.Exists($"/proc/{d.Pid}"))
                            .Sum(d => Directory.GetDirectories($"/proc/{d.Pid}/task").Length);
                        expected = (CpuList.ReadOnline().Length + threads) * supportedEvents;
                        actual = Requirements.OpenPerfEventFdCount();
                        if (actual == expected)
                        {
                            return;
                        }
                    }

                    Assert.Equal(expected, actual);
                }

                AssertPerfFdsAreTheHostsAndThoseOf(steady);
                var previous = Perf(first, steady, "domain_perf_events_total", "task_clock")!.Value;
                for (var round = 0; round < 3; round++)
                {
                    using var visitor = _host.StartDomain(LibvirtdHost.UniqueName($"churn-visitor-{round}"));
                    var with = Cycle();
                    Assert.NotNull(Perf(with, visitor, "domain_perf_events_total", "task_clock"));
                    Assert.NotNull(Perf(with, visitor, "domain_vcpu_perf_events_total", "task_clock", vcpu: "0"));
                    AssertPerfFdsAreTheHostsAndThoseOf(steady, visitor);

                    visitor.Dispose();
                    var without = Cycle();
                    Assert.DoesNotContain(without, s => s.Labels.TryGetValue("domain", out var d) && d == visitor.Name);
                    AssertPerfFdsAreTheHostsAndThoseOf(steady);

                    // The steady domain's counter is cumulative through the churn.
                    var now = Perf(without, steady, "domain_perf_events_total", "task_clock")!.Value;
                    Assert.True(now >= previous, $"task_clock went back from {previous} to {now}");
                    previous = now;
                }

                var text = File.ReadAllText(endpoint);
                var (lint, lintOutput) = Promtool.Check(text);
                Assert.True(lint == 0 && lintOutput.Trim().Length == 0, $"promtool: exit {lint}: {lintOutput}");
                using var exporter = NodeExporterHost.Start(dir);
                var scrape = exporter.Scrape();
                Assert.Equal(0, scrape.TextfileScrapeError);
                Assert.NotNull(scrape.ValueOf("vmprobe_domain_vcpu_perf_events_total", ("domain", steady.Name), ("uuid", steady.Uuid.ToString()), ("vcpu", "0"), ("event", "task_clock")));
                Assert.Empty(exporter.ErrorLog);
            }

            // Closing the probe releases every perf fd it opened.
            Assert.Equal(perfFdsBefore, Requirements.OpenPerfEventFdCount());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
