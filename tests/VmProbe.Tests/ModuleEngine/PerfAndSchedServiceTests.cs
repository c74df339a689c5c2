using VmProbe.Commands;
using VmProbe.Config;
using VmProbe.Perf;
using VmProbe.Procfs;
using VmProbe.Prometheus;
using VmProbe.Tests.Infrastructure;
using VmProbe.Tests.Perf;
using Xunit;
using static VmProbe.Tests.ModuleEngine.ModuleEngineTestSupport;

namespace VmProbe.Tests.ModuleEngine;

/// <summary>The perf and schedstat services behind the cmdlets, on this test process's own threads (real perf, live /proc).</summary>
[Collection(ProcessWideCollection.Name)]
public class PerfAndSchedServiceTests
{
    private static readonly PerfEventSpec TaskClock = PerfEventCatalog.Parse("task_clock");

    [SkippableFact]
    public void CatalogProbesSupportAndExplainsWhatIsMissing()
    {
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        var events = PerfEventSupport.ListCatalog();

        Assert.Equal(PerfEventCatalog.All.Count, events.Count);
        var taskClock = Assert.Single(events, e => e.Name == "task_clock");
        Assert.True(taskClock.Supported, taskClock.Reason);
        Assert.Null(taskClock.Reason);
        Assert.All(events.Where(e => !e.Supported), e => Assert.False(string.IsNullOrEmpty(e.Reason), e.Name));
        if (!Directory.Exists("/sys/bus/event_source/devices/cpu"))
        {
            var cycles = Assert.Single(events, e => e.Name == "cpu_cycles");
            Assert.False(cycles.Supported);
            Assert.StartsWith("ENOENT", cycles.Reason);
        }
    }

    [Fact]
    public void CatalogResolvesEveryCmdletSpelling()
    {
        Assert.Equal("task_clock", PerfEventNames.Resolve("TaskClock")?.CanonicalName);
        Assert.Equal("task_clock", PerfEventNames.Resolve("task-clock")?.CanonicalName);
        Assert.Equal(PerfEventKind.Tracepoint, PerfEventNames.Resolve("sched:sched_switch")?.Kind);
        Assert.Null(PerfEventNames.Resolve("no_such_event_at_all"));
    }

    [SkippableFact]
    public void SessionCountsDomainVcpuAndHostAndReleasesEveryFd()
    {
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        Skip.IfNot(Requirements.IsRoot, "host-wide perf counters need root");
        using var worker = new WorkerThread();
        var cycles = PerfEventCatalog.Parse("cpu_cycles");
        var hardwareMissing = !Directory.Exists("/sys/bus/event_source/devices/cpu");
        var baseline = Requirements.OpenPerfEventFdCount();
        var errors = new List<VmProbeException>();

        var counters = PerfSourceSession.Open(
            new[] { TaskClock, cycles }, new[] { SelfDomain(worker.Tid) }, includeHost: true, PerfAttribution.Thread, perCpu: false, errors, NullProbeLog.Instance);
        var session = new VmPerfSession(counters, new[] { "task_clock", "cpu_cycles" });
        try
        {
            Assert.True(session.OpenFds > 0);
            Assert.Equal(baseline + session.OpenFds, Requirements.OpenPerfEventFdCount());
            if (hardwareMissing)
            {
                var error = Assert.IsType<PerfEventNotSupportedException>(Assert.Single(errors));
                Assert.Equal("cpu_cycles", error.EventName);
                Assert.Equal(ProbeErrorKind.NotSupported, error.Kind);
                Assert.Equal(System.Management.Automation.ErrorCategory.NotImplemented, ErrorRecordFactory.Classify(error).Category);
            }

            worker.Do(() => WorkerThread.SpinCpu(TimeSpan.FromMilliseconds(50)));
            var samples = session.Read(perVcpu: true, DateTimeOffset.Now);

            var host = Assert.Single(samples, s => s.Scope == VmSampleScope.Host && s.Event == "task_clock");
            var domain = Assert.Single(samples, s => s.Scope == VmSampleScope.Domain && s.Event == "task_clock");
            var vcpu = Assert.Single(samples, s => s.Scope == VmSampleScope.Vcpu && s.Event == "task_clock");
            Assert.True(vcpu.Value >= 40e6, $"the spinning thread counted {vcpu.Value} ns of task_clock");
            Assert.True(domain.Value >= vcpu.Value);
            Assert.True(host.Value > 0);
            Assert.Equal(0, vcpu.Vcpu);
            Assert.Equal("self", domain.Domain);
            Assert.InRange(domain.ScalingRatio, 0.99, 1.0);
            if (hardwareMissing)
            {
                Assert.DoesNotContain(samples, s => s.Event == "cpu_cycles");
            }

            var exposition = SampleExposition.ToMetricSet(samples);
            Assert.Equal(
                new[]
                {
                    "host_perf_events_total:Counter{event}", "host_perf_scaling_ratio:Gauge{event}", "domain_perf_events_total:Counter{domain,uuid,event}",
                    "domain_perf_scaling_ratio:Gauge{domain,uuid,event}", "domain_vcpu_perf_events_total:Counter{domain,uuid,vcpu,event}",
                },
                Shape(exposition));
        }
        finally
        {
            Assert.True(session.Close());
        }

        Assert.Equal(0, session.OpenFds);
        Assert.Equal(baseline, Requirements.OpenPerfEventFdCount());
    }

    [SkippableFact]
    public void TracepointsAreResolvedByNameAndAMissingOneIsItsOwnError()
    {
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        Skip.If(TracepointResolver.FindTracefs() is null, "tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing)");
        var errors = new List<VmProbeException>();
        var events = new[] { PerfEventCatalog.Parse("sched:sched_switch"), PerfEventCatalog.Parse("sched:vmprobe_no_such_tracepoint"), TaskClock };

        using var counters = PerfSourceSession.Open(events, new[] { SelfDomain() }, includeHost: false, PerfAttribution.Thread, perCpu: false, errors, NullProbeLog.Instance);

        var missing = Assert.IsType<TracepointException>(Assert.Single(errors));
        Assert.Equal("sched:vmprobe_no_such_tracepoint", missing.TracepointName);
        Assert.Equal(new[] { true, false, true }, counters.EventStates.Select(e => e.Supported));
        Assert.Same(missing, counters.EventStates[1].Error);
        Thread.Sleep(1); // at least one switch of this thread
        var samples = counters.Read(perVcpu: false, DateTimeOffset.Now);
        Assert.Contains(samples, s => s.Event == "sched:sched_switch" && s.Scope == VmSampleScope.Domain && s.Value > 0);
    }

    [SkippableFact]
    public void AGoneProcessIsAPerDomainErrorAndTheOthersCount()
    {
        var gone = new VmDomain { Name = "gone", Pid = int.MaxValue - 1, State = VmDomainState.Running };
        var errors = new List<VmProbeException>();
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);

        using var counters = PerfSourceSession.Open(new[] { TaskClock }, new[] { gone, SelfDomain() }, false, PerfAttribution.Thread, false, errors, NullProbeLog.Instance);

        Assert.Equal("domain_process,not_found", Assert.Single(errors).ErrorId);
        Assert.Equal("self", Assert.Single(counters.CountedDomains).Name);
        Assert.False(counters.IsEmpty);
        var samples = counters.Read(false, DateTimeOffset.Now).Where(s => s.Scope != VmSampleScope.Host).ToList();
        Assert.Equal("self", Assert.Single(samples).Domain);
    }

    [SkippableFact]
    public void CgroupAttributionWithoutACgroupIsAPerDomainError()
    {
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        var errors = new List<VmProbeException>();

        using var counters = PerfSourceSession.Open(new[] { TaskClock }, new[] { SelfDomain() }, false, PerfAttribution.Cgroup, false, errors, NullProbeLog.Instance);

        Assert.Equal("domain_cgroup,not_found", Assert.Single(errors).ErrorId);
        Assert.Equal(0, counters.OpenFds);
    }

    [Fact]
    public void SchedStatsArePerDomainAndPerVcpuThreadWithTheRunnerFamilies()
    {
        using var worker = new WorkerThread();
        worker.Do(() => WorkerThread.SpinCpu(TimeSpan.FromMilliseconds(20)));
        var errors = new List<VmProbeException>();

        var samples = new DomainSchedStatReader().Read(new[] { SelfDomain(worker.Tid) }, DateTimeOffset.Now, errors, NullProbeLog.Instance);

        Assert.Empty(errors);
        var run = Assert.Single(samples, s => s.Family == "domain_sched_run_seconds_total");
        var vcpuRun = Assert.Single(samples, s => s.Family == "domain_vcpu_sched_run_seconds_total");
        Assert.Equal((VmSampleScope.Domain, "sched_run_seconds_total"), (run.Scope, run.Metric));
        Assert.Equal((VmSampleScope.Vcpu, "sched_run_seconds_total"), (vcpuRun.Scope, vcpuRun.Metric));
        Assert.True(vcpuRun.Value >= 0.015, $"worker ran {vcpuRun.Value} s");
        Assert.True(run.Value > vcpuRun.Value);
        Assert.Equal(0, vcpuRun.Vcpu);
        Assert.Equal(
            new[]
            {
                "domain_sched_run_seconds_total:Counter{domain,uuid}", "domain_sched_wait_seconds_total:Counter{domain,uuid}", "domain_sched_timeslices_total:Counter{domain,uuid}",
                "domain_minor_page_faults_total:Counter{domain,uuid}", "domain_major_page_faults_total:Counter{domain,uuid}", "domain_cpu_guest_seconds_total:Counter{domain,uuid}",
                "domain_threads:Gauge{domain,uuid}",
                "domain_vcpu_sched_run_seconds_total:Counter{domain,uuid,vcpu}", "domain_vcpu_sched_wait_seconds_total:Counter{domain,uuid,vcpu}", "domain_vcpu_sched_timeslices_total:Counter{domain,uuid,vcpu}",
            },
            Shape(SampleExposition.ToMetricSet(samples)));
    }

    [Fact]
    public void SchedStatsOfAGoneProcessAreAPerDomainErrorAndTheOthersAreRead()
    {
        var gone = new VmDomain { Name = "gone", Pid = int.MaxValue - 1 };
        var errors = new List<VmProbeException>();

        var samples = new DomainSchedStatReader().Read(new[] { gone, SelfDomain() }, DateTimeOffset.Now, errors, NullProbeLog.Instance);

        var error = Assert.IsType<ProcfsException>(Assert.Single(errors));
        Assert.Equal(ProbeErrorKind.NotFound, error.Kind);
        Assert.Contains("gone", error.Message);
        Assert.NotEmpty(samples);
        Assert.All(samples, s => Assert.Equal("self", s.Domain));
    }
}
