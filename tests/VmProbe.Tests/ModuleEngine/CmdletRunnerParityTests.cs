using VmProbe.Tests.Infrastructure;
using System.Text;
using VmProbe.Procfs;
using VmProbe.Prometheus;
using VmProbe.Tests.Procfs;
using Xunit;
using static VmProbe.Tests.ModuleEngine.ModuleEngineTestSupport;

namespace VmProbe.Tests.ModuleEngine;

/// <summary>
/// The cmdlet path (Read-VmSchedStat's reader, Read-VmPerfCounter's session) | Export-PromTextFile must give the
/// families and labels the runner's sources give for the same input, and its counters must not go backwards.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public class CmdletRunnerParityTests
{
    private static readonly string[] Web = { "web-01", "3f0b6a52-6b3e-4d2c-9a3f-2f1d7e0b9c11" };

    [Fact]
    public void SchedCmdletSamplesRebuildTheRunnerProcfsSeries()
    {
        var domains = DomainProcfsSourceTests.FixtureDomains(ProcfsParserTests.KvmHost);
        var timestamp = DateTimeOffset.UnixEpoch;
        var runner = new MetricSet();
        using (var source = new DomainProcfsSource(ProcfsParserTests.KvmHost))
        {
            source.Collect(new CycleContext(domains, timestamp, NullProbeLog.Instance, default), runner);
        }

        using var reader = new DomainSchedStatReader(ProcfsParserTests.KvmHost);
        var errors = new List<VmProbeException>();
        var rebuilt = SampleExposition.ToMetricSet(reader.Read(domains, timestamp, errors, NullProbeLog.Instance));

        Assert.Empty(errors);
        Assert.Contains("domain_minor_page_faults_total:Counter{domain,uuid}", Shape(rebuilt));
        Assert.Contains("domain_vcpu_sched_wait_seconds_total:Counter{domain,uuid,vcpu}", Shape(rebuilt));
        Assert.Equal(Shape(runner), Shape(rebuilt));
        Assert.Equal(Series(runner), Series(rebuilt));
        Assert.Equal(Render(runner), Render(rebuilt));
    }

    [Fact]
    public void SchedCmdletCountersDoNotGoBackwardsWhenAThreadExitsBetweenCalls()
    {
        var root = DomainProcfsSourceTests.CopyKvmHostProcesses();
        try
        {
            var domains = DomainProcfsSourceTests.FixtureDomains(root);
            using var reader = new DomainSchedStatReader(root);
            var errors = new List<VmProbeException>();
            var first = Values(reader.Read(domains, DateTimeOffset.Now, errors, NullProbeLog.Instance));

            // A call about the other domain only (Read-VmSchedStat -Domain db...) must not cost web-01 its state.
            reader.Read(new[] { domains[1] }, DateTimeOffset.Now, errors, NullProbeLog.Instance);
            Assert.Equal(2, reader.TrackedDomainCount);

            // web-01's worker thread (2 ms run, 11 minor faults) exits.
            Directory.Delete(Path.Combine(root, "proc", "4242", "task", "4260"), recursive: true);
            var second = Values(reader.Read(domains, DateTimeOffset.Now, errors, NullProbeLog.Instance));

            Assert.Empty(errors);
            Assert.Equal(first["domain_sched_run_seconds_total"], second["domain_sched_run_seconds_total"], 9);
            Assert.Equal(first["domain_sched_timeslices_total"], second["domain_sched_timeslices_total"]);
            Assert.Equal(first["domain_minor_page_faults_total"], second["domain_minor_page_faults_total"]);
            Assert.Equal(first["domain_threads"] - 1, second["domain_threads"]);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void SchedCmdletReaderForgetsADomainWhoseProcessIsGone()
    {
        var root = DomainProcfsSourceTests.CopyKvmHostProcesses();
        try
        {
            var domains = DomainProcfsSourceTests.FixtureDomains(root);
            using var reader = new DomainSchedStatReader(root);
            reader.Read(domains, DateTimeOffset.Now, new List<VmProbeException>(), NullProbeLog.Instance);
            Assert.Equal(2, reader.TrackedDomainCount);

            Directory.Delete(Path.Combine(root, "proc", "5353"), recursive: true);
            reader.Read(new[] { domains[0] }, DateTimeOffset.Now, new List<VmProbeException>(), NullProbeLog.Instance);

            Assert.Equal(1, reader.TrackedDomainCount);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void PerfCmdletSamplesHaveTheRunnerPerfFamiliesAndLabels(bool perCpu)
    {
        Skip.If(VmProbe.Tests.Perf.PerfTestSupport.WhyPerfUnavailable is not null, VmProbe.Tests.Perf.PerfTestSupport.WhyPerfUnavailable);
        Skip.IfNot(VmProbe.Tests.Infrastructure.Requirements.IsRoot, "host-wide perf counters need root");
        using var vcpus = new VmProbe.Tests.Perf.FakeVcpus(2);
        var domain = vcpus.Domain("web-01", Guid.Parse(Web[1]));
        var events = new[] { "task-clock", "context-switches" }.Select(e => VmProbe.Perf.PerfEventCatalog.Parse(e)).ToArray();
        var config = new VmProbe.Config.ProbeConfig { Events = events, Attribution = VmProbe.Config.PerfAttribution.Thread, PerCpu = perCpu };

        var runner = new MetricSet();
        using (var source = new VmProbe.Perf.PerfMetricsSource(config, NullProbeLog.Instance))
        {
            source.Collect(new CycleContext(new[] { domain }, DateTimeOffset.Now, NullProbeLog.Instance, default), runner);
        }

        var errors = new List<VmProbeException>();
        using var session = VmProbe.Perf.PerfSourceSession.Open(events, new[] { domain }, includeHost: true, config.Attribution, perCpu, errors, NullProbeLog.Instance);
        var rebuilt = SampleExposition.ToMetricSet(session.Read(perVcpu: true, DateTimeOffset.Now));

        Assert.Empty(errors);
        // probe_event_supported and probe_perf_open_fds describe the runner process itself; the cmdlets report per-event errors instead.
        var runnerShape = Shape(runner).Where(f => !f.StartsWith("probe_", StringComparison.Ordinal)).ToArray();
        var runnerSeries = Series(runner).Where(f => !f.StartsWith("probe_", StringComparison.Ordinal)).ToArray();
        Assert.Contains(perCpu ? "host_perf_events_total:Counter{cpu,event}" : "host_perf_events_total:Counter{event}", runnerShape);
        Assert.Contains("domain_vcpu_perf_events_total:Counter{domain,uuid,vcpu,event}", runnerShape);
        Assert.Equal(runnerShape, Shape(rebuilt));
        Assert.Equal(runnerSeries, Series(rebuilt));
        Assert.Equal(runner.Families.Where(f => f.Samples.Count > 0 && !f.Name.StartsWith("probe_", StringComparison.Ordinal)).Select(f => f.Help),
            rebuilt.Families.Where(f => f.Samples.Count > 0).Select(f => f.Help));
    }

    [SkippableFact]
    public void PerfCmdletSessionReportsAnUnsupportedEventAsItsOwnNotSupportedError()
    {
        Skip.If(VmProbe.Tests.Perf.PerfTestSupport.WhyPerfUnavailable is not null, VmProbe.Tests.Perf.PerfTestSupport.WhyPerfUnavailable);
        Skip.If(Directory.Exists("/sys/bus/event_source/devices/cpu"), "this host has a hardware PMU: cpu_cycles is supported");
        var errors = new List<VmProbeException>();
        var events = new[] { VmProbe.Perf.PerfEventCatalog.Parse("task_clock"), VmProbe.Perf.PerfEventCatalog.Parse("cpu_cycles") };

        using var session = VmProbe.Perf.PerfSourceSession.Open(events, new[] { SelfDomain() }, includeHost: false,
            VmProbe.Config.PerfAttribution.Thread, perCpu: false, errors, NullProbeLog.Instance);

        var error = Assert.IsType<VmProbe.Perf.PerfEventNotSupportedException>(Assert.Single(errors));
        Assert.Equal("cpu_cycles", error.EventName);
        Assert.Equal(System.Management.Automation.ErrorCategory.NotImplemented, VmProbe.Commands.ErrorRecordFactory.Classify(error).Category);
        Assert.Equal(new[] { true, false }, session.EventStates.Select(s => s.Supported));
        Assert.NotEqual(0, session.EventStates[1].Errno);
        Assert.DoesNotContain(session.Read(false, DateTimeOffset.Now), s => s.Event == "cpu_cycles");
    }

    /// <summary>web-01's domain-level series by family.</summary>
    private static Dictionary<string, double> Values(IEnumerable<VmStatSample> samples) =>
        samples.Where(s => s.Scope == VmSampleScope.Domain && s.Domain == Web[0] && s.Uuid == Guid.Parse(Web[1]))
            .ToDictionary(s => s.Family!, s => s.Value);

    private static string Render(MetricSet metrics) => Encoding.UTF8.GetString(new PromTextWriter("vmprobe").Render(metrics, out _).Span);
}
