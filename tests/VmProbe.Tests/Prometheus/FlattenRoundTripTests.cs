using System.Text;
using VmProbe.Config;
using VmProbe.Libvirt;
using VmProbe.Perf;
using VmProbe.Procfs;
using VmProbe.Prometheus;
using VmProbe.Tests.Infrastructure;
using VmProbe.Tests.Libvirt;
using VmProbe.Tests.Perf;
using VmProbe.Tests.Procfs;
using Xunit;
using static VmProbe.Tests.ModuleEngine.ModuleEngineTestSupport;

namespace VmProbe.Tests.Prometheus;

/// <summary>
/// Each source collected into a metric set, flattened to pipeline samples (<see cref="MetricSetFlattener.Flatten"/>)
/// and rebuilt (<see cref="SampleExposition.ToMetricSet"/>), renders byte for byte as the set itself.
/// </summary>
public class FlattenRoundTripTests
{
    private static readonly DateTimeOffset Timestamp = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    [SkippableFact]
    public void HostProcfsSourceOfThisMachine()
    {
        Skip.IfNot(File.Exists("/proc/stat"), "no /proc here");
        var direct = new MetricSet();
        using (var source = new HostProcfsSource())
        {
            source.Collect(Context(), direct);
        }

        AssertRoundTrip(direct, "host_cpu_seconds_total");
    }

    [Fact]
    public void HostProcfsSourceOfAKvmHostFixture()
    {
        var direct = new MetricSet();
        using (var source = new HostProcfsSource(ProcfsParserTests.KvmHost))
        {
            source.Collect(Context(), direct);
        }

        AssertRoundTrip(direct, "host_sched_wait_seconds_total");
    }

    [SkippableFact]
    public void DomainProcfsSourceOnThisProcessAsADomain()
    {
        Skip.IfNot(Directory.Exists($"/proc/{Environment.ProcessId}/task"), "no /proc here");
        var direct = new MetricSet();
        using (var source = new DomainProcfsSource())
        {
            source.Collect(Context(SelfDomain(Environment.ProcessId)), direct);
        }

        var samples = AssertRoundTrip(direct, "domain_vcpu_sched_run_seconds_total");
        var vcpu = Assert.Single(samples.OfType<VmStatSample>(), s => s.Family == "domain_vcpu_sched_run_seconds_total");
        Assert.Equal((VmSampleScope.Vcpu, "self", 0), (vcpu.Scope, vcpu.Domain, vcpu.Vcpu));
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void PerfSourceWithSoftwareEventsOnThisProcess(bool perCpu)
    {
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        Skip.IfNot(Requirements.IsRoot, "host-wide perf counters need root");
        var events = new[] { "task-clock", "context-switches", "page-faults" }.Select(e => PerfEventCatalog.Parse(e)).ToArray();
        var errors = new List<VmProbeException>();
        using var session = PerfSourceSession.Open(
            events, new[] { SelfDomain(Environment.ProcessId) }, includeHost: true, PerfAttribution.Thread, perCpu, errors, NullProbeLog.Instance);
        Assert.Empty(errors);
        var direct = new MetricSet();
        session.Collect(direct, Timestamp);

        var samples = AssertRoundTrip(direct, "domain_vcpu_perf_events_total");
        var perf = samples.OfType<VmPerfSample>().ToList();
        Assert.Contains(perf, s => s.Scope == VmSampleScope.Host && (s.Cpu is not null) == perCpu && s.Event == "task_clock");
        Assert.Contains(perf, s => s.Scope == VmSampleScope.Domain && s.Domain == "self" && s.Uuid is not null && s.ScalingRatio > 0);
        Assert.Contains(perf, s => s.Scope == VmSampleScope.Vcpu && s.Vcpu == 0);
        // The ratio families travel inside the perf samples; the probe_* families as stat samples.
        Assert.DoesNotContain(samples.OfType<VmStatSample>(), s => s.Family!.EndsWith("_perf_events_total", StringComparison.Ordinal)
            || s.Family.EndsWith("_perf_scaling_ratio", StringComparison.Ordinal));
        Assert.Contains(samples.OfType<VmStatSample>(), s => s.Family == "probe_event_supported");
    }

    [SkippableTheory]
    [InlineData("test:///default")]
    [InlineData(null)]
    public void LibvirtSourceOnTheTestDriver(string? uri)
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        var direct = new MetricSet();
        using (var session = new LibvirtSession(uri ?? LibvirtTestDriver.NodeUri, TimeSpan.FromSeconds(30), NullProbeLog.Instance))
        using (var source = new LibvirtDomainSource(session))
        {
            source.Collect(Context(), direct);
        }

        AssertRoundTrip(direct, "domain_info");
    }

    [Fact]
    public void PerfCountsWithoutTheirRatioFamilyKeepARatioOfOne()
    {
        var direct = new MetricSet();
        direct.Family(PerfSampleFamilies.DomainEvents).Add(5, "web", "", "task_clock");

        var sample = Assert.IsType<VmPerfSample>(Assert.Single(MetricSetFlattener.Flatten(direct, Timestamp)));

        Assert.Equal((5.0, 1.0, "web", (Guid?)null), (sample.Value, sample.ScalingRatio, sample.Domain, sample.Uuid));
    }

    private static List<object> AssertRoundTrip(MetricSet direct, string expectedFamily)
    {
        Assert.Contains(direct.Families, f => f.Name == expectedFamily && f.Samples.Count > 0);
        var samples = MetricSetFlattener.Flatten(direct, Timestamp);
        Assert.All(samples, s => Assert.True(SampleExposition.IsSample(s)));
        Assert.Equal(direct.Families.Sum(f => f.Samples.Count), samples.Count + Ratios(direct));
        var rebuilt = SampleExposition.ToMetricSet(samples);
        Assert.Equal(Render(direct), Render(rebuilt));
        return samples;
    }

    // Ratio series are carried by the perf samples of their counts, not as samples of their own.
    private static int Ratios(MetricSet metrics) =>
        metrics.Families.Where(f => f.Name.EndsWith("_perf_scaling_ratio", StringComparison.Ordinal)).Sum(f => f.Samples.Count);

    private static CycleContext Context(params VmDomain[] domains) => new(domains, Timestamp, NullProbeLog.Instance, default);

    private static string Render(MetricSet metrics) => Encoding.UTF8.GetString(new PromTextWriter("vmprobe").Render(metrics, out _).Span);
}
