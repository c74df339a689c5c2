using Xunit;
using VmProbe.Prometheus;

namespace VmProbe.Tests.Module;

public class SampleExpositionTests
{
    private static readonly Guid Uuid = Guid.Parse("6695eb01-f6a4-8304-79aa-97f2502e193f");

    [Fact]
    public void PerfSamplesMapToHostDomainAndVcpuFamilies()
    {
        var metrics = SampleExposition.ToMetricSet(new object[]
        {
            new VmPerfSample { Scope = VmSampleScope.Host, Event = "task_clock", Value = 10 },
            new VmPerfSample { Scope = VmSampleScope.Domain, Domain = "web1", Uuid = Uuid, Event = "task_clock", Value = 20 },
            new VmPerfSample { Scope = VmSampleScope.Vcpu, Domain = "web1", Uuid = Uuid, Vcpu = 1, Event = "task_clock", Value = 5 },
        });

        Assert.True(metrics.TryGet("host_perf_events_total", out var host));
        Assert.Equal(new[] { "event" }, host.LabelNames);
        Assert.Equal(new[] { "task_clock" }, host.Samples.Single().LabelValues);
        Assert.True(metrics.TryGet("domain_perf_events_total", out var domain));
        Assert.Equal(new[] { "domain", "uuid", "event" }, domain.LabelNames);
        Assert.Equal(new[] { "web1", "6695eb01-f6a4-8304-79aa-97f2502e193f", "task_clock" }, domain.Samples.Single().LabelValues);
        Assert.True(metrics.TryGet("domain_vcpu_perf_events_total", out var vcpu));
        Assert.Equal(new[] { "web1", "6695eb01-f6a4-8304-79aa-97f2502e193f", "1", "task_clock" }, vcpu.Samples.Single().LabelValues);
        Assert.Equal(5, vcpu.Samples.Single().Value);
        Assert.All(metrics.Families, f => Assert.Equal(f.Name.EndsWith("_scaling_ratio", StringComparison.Ordinal) ? MetricType.Gauge : MetricType.Counter, f.Type));
    }

    [Fact]
    public void StatSamplesTakeTheirTypeFromTheMetricNameAndADeviceLabel()
    {
        var metrics = SampleExposition.ToMetricSet(new object[]
        {
            new VmStatSample { Scope = VmSampleScope.Host, Metric = "memory_available_bytes", Value = 1024 },
            new VmStatSample { Scope = VmSampleScope.Domain, Domain = "web1", Uuid = Uuid, Metric = "block_read_bytes_total", Device = "vda", Value = 4096 },
        });

        Assert.True(metrics.TryGet("host_memory_available_bytes", out var memory));
        Assert.Equal(MetricType.Gauge, memory.Type);
        Assert.Empty(memory.LabelNames);
        Assert.True(metrics.TryGet("domain_block_read_bytes_total", out var block));
        Assert.Equal(MetricType.Counter, block.Type);
        Assert.Equal(new[] { "web1", "6695eb01-f6a4-8304-79aa-97f2502e193f", "vda" }, block.Samples.Single().LabelValues);
    }

    [Fact]
    public void BadMetricNameIsAnInvalidDataError()
    {
        var error = Assert.Throws<VmProbeException>(() => SampleExposition.ToMetricSet(new object[] { new VmStatSample { Scope = VmSampleScope.Host, Metric = "cpu time", Value = 1 } }));
        Assert.Equal(ProbeErrorKind.InvalidData, error.Kind);
        Assert.Contains("cpu time", error.Message);
    }

    [Fact]
    public void OtherObjectsAreRejected()
    {
        Assert.False(SampleExposition.IsSample("text"));
        var error = Assert.Throws<ArgumentException>(() => SampleExposition.ToMetricSet(new object[] { 42 }));
        Assert.Contains("System.Int32", error.Message);
    }
}
