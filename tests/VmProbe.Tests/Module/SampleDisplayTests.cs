using VmProbe.Commands;
using Xunit;

namespace VmProbe.Tests.Module;

/// <summary>The cells of the readers' default tables (<see cref="SampleDisplay"/>): units and names as a terminal view shows them.</summary>
public class SampleDisplayTests
{
    [Theory]
    [InlineData("host_cpu_seconds_total", VmSampleScope.Host, 0.981, "98.1% cpu")]
    [InlineData("domain_sched_run_seconds_total", VmSampleScope.Domain, 1.5, "150.0% cpu")]
    [InlineData("domain_vcpu_sched_wait_seconds_total", VmSampleScope.Vcpu, 0.021, "2.1% steal")]
    [InlineData("domain_vcpu_delay_seconds_total", VmSampleScope.Vcpu, 0.25, "25.0% steal")]
    [InlineData("domain_sched_wait_seconds_total", VmSampleScope.Domain, 0.4, "40.0% waiting")]
    [InlineData("host_pressure_cpu_some_seconds_total", VmSampleScope.Host, 0.05, "5.0% stalled")]
    [InlineData("domain_cpu_guest_seconds_total", VmSampleScope.Domain, 0.9, "90.0% guest")]
    [InlineData("domain_cpu_haltpoll_success_seconds_total", VmSampleScope.Domain, 0.001, "0.1% polling")]
    [InlineData("domain_block_read_bytes_total", VmSampleScope.Domain, 1.5 * 1024 * 1024, "1.5 MiB/s")]
    [InlineData("domain_network_receive_bytes_total", VmSampleScope.Domain, 512, "512 B/s")]
    [InlineData("domain_minor_page_faults_total", VmSampleScope.Domain, 12.34, "12.3/s")]
    [InlineData("host_context_switches_total", VmSampleScope.Host, 4119.6, "4,120/s")]
    public void CounterRates_CarryTheirUnit(string family, VmSampleScope scope, double rate, string expected)
    {
        Assert.Equal(expected, SampleDisplay.Rate(Stat(family, scope, 0, rate)));
    }

    [Fact]
    public void NoRate_IsAnEmptyCell()
    {
        Assert.Equal(string.Empty, SampleDisplay.Rate(Stat("host_memory_total_bytes", VmSampleScope.Host, 1, rate: null)));
    }

    [Theory]
    [InlineData("host_memory_total_bytes", 128.0 * 1024 * 1024, "128.0 MiB")]
    [InlineData("domain_memory_rss_bytes", 900, "900 B")]
    [InlineData("host_memory_available_bytes", 23.5 * 1024 * 1024 * 1024, "23.5 GiB")]
    [InlineData("domain_sched_run_seconds_total", 1234.567, "1,234.57 s")]
    [InlineData("host_perf_scaling_ratio", 0.998, "99.8%")]
    [InlineData("domain_threads", 4, "4")]
    [InlineData("host_load1", 43.61, "43.61")]
    [InlineData("domain_sched_timeslices_total", 1234567, "1,234,567")]
    public void Values_CarryTheirUnit(string family, double value, string expected)
    {
        Assert.Equal(expected, SampleDisplay.Value(Stat(family, VmSampleScope.Domain, value, null)));
    }

    [Fact]
    public void AHistogram_ShowsItsCount_NotSeconds()
    {
        var sample = new VmStatSample { Metric = "kvm_halt_wait_hist_seconds", Family = "domain_kvm_halt_wait_hist_seconds", Type = MetricType.Histogram, Value = 42, Rate = 3 };
        Assert.Equal(("42", "3.0/s"), (SampleDisplay.Value(sample), SampleDisplay.Rate(sample)));
    }

    [Theory]
    [InlineData("host_cpu_seconds_total", "cpu_seconds_total", "user", "cpu user")]
    [InlineData("domain_block_read_bytes_total", "block_read_bytes_total", "vda", "block_read vda")]
    [InlineData("domain_memory_rss_bytes", "memory_rss_bytes", null, "memory_rss")]
    [InlineData("domain_vcpu_seconds_total", "seconds_total", null, "time")]
    [InlineData("domain_threads", "threads", null, "threads")]
    [InlineData("domain_info", "info", "running", "info running")]
    public void Metric_DropsTotalAndTheUnit_AndAddsItsLabel(string family, string metric, string? device, string expected)
    {
        var sample = new VmStatSample { Metric = metric, Family = family, Device = device };
        Assert.Equal(expected, SampleDisplay.Metric(sample));
    }

    [Fact]
    public void PerfClocks_AreCpuTime_OtherEventsCounts()
    {
        var clock = new VmPerfSample { Event = "task_clock", Value = 2.5e9, Rate = 0.5e9 };
        var switches = new VmPerfSample { Event = "context_switches", Value = 5064, Rate = 4119.2 };
        var first = new VmPerfSample { Event = "page_faults", Value = 10 };

        Assert.Equal(("2.50 s", "50.0% cpu"), (SampleDisplay.Value(clock), SampleDisplay.Rate(clock)));
        Assert.Equal(("5,064", "4,119/s"), (SampleDisplay.Value(switches), SampleDisplay.Rate(switches)));
        Assert.Equal(string.Empty, SampleDisplay.Rate(first));
    }

    [Fact]
    public void HostRows_AreNamedHost()
    {
        Assert.Equal("(host)", SampleDisplay.Domain(VmSampleScope.Host, null));
        Assert.Equal("(host cpu3)", SampleDisplay.Domain(VmSampleScope.Host, null, 3));
        Assert.Equal("web 01", SampleDisplay.Domain(VmSampleScope.Vcpu, "web 01"));
    }

    private static VmStatSample Stat(string family, VmSampleScope scope, double value, double? rate) => new()
    {
        Scope = scope,
        Metric = MetricSetSamples.Split(family).Metric,
        Family = family,
        Type = family.EndsWith("_total", StringComparison.Ordinal) ? MetricType.Counter : MetricType.Gauge,
        Value = value,
        Rate = rate,
    };
}
