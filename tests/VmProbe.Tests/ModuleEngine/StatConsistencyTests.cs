using System.Text;
using VmProbe.Libvirt;
using VmProbe.Procfs;
using VmProbe.Prometheus;
using VmProbe.Tests.Libvirt;
using VmProbe.Tests.Procfs;
using Xunit;
using static VmProbe.Tests.ModuleEngine.ModuleEngineTestSupport;

namespace VmProbe.Tests.ModuleEngine;

/// <summary>
/// Read-VmHostStat / Read-VmDomainStat | Export-PromTextFile must write what the runner's sources write: the samples
/// are flattened from the same source and rebuilt by SampleExposition.
/// </summary>
public class StatConsistencyTests
{
    [Fact]
    public void HostStatSamplesRebuildTheHostSourceExpositionByteForByte()
    {
        var timestamp = DateTimeOffset.UnixEpoch;
        var runner = new MetricSet();
        using (var source = new HostProcfsSource(ProcfsParserTests.KvmHost))
        {
            source.Collect(new CycleContext(Array.Empty<VmDomain>(), timestamp, NullProbeLog.Instance, default), runner);
        }

        var samples = HostStatReader.Read(timestamp, NullProbeLog.Instance, root: ProcfsParserTests.KvmHost);
        var rebuilt = SampleExposition.ToMetricSet(samples);

        Assert.Contains("host_cpu_seconds_total:Counter{mode}", Shape(rebuilt));
        Assert.Equal(Shape(runner), Shape(rebuilt));
        Assert.Equal(Render(runner), Render(rebuilt));
    }

    [Fact]
    public void HostStatSamplesHaveFlatColumnsForTables()
    {
        var samples = HostStatReader.Read(DateTimeOffset.UnixEpoch, NullProbeLog.Instance, root: ProcfsParserTests.KvmHost);

        var user = Assert.Single(samples, s => s.Family == "host_cpu_seconds_total" && (string?)s.Labels!["mode"] == "user");
        Assert.Equal(VmSampleScope.Host, user.Scope);
        Assert.Equal("cpu_seconds_total", user.Metric);
        Assert.Equal("user", user.Device);
        Assert.Null(user.Domain);
        var load = Assert.Single(samples, s => s.Family == "host_load1");
        Assert.Equal(MetricType.Gauge, load.Type);
        Assert.Null(load.Device);
        Assert.Empty(load.Labels!);
    }

    [SkippableFact]
    public void LiveHostStatSamplesHaveTheLiveSourceFamilies()
    {
        Skip.IfNot(File.Exists("/proc/stat"), "no /proc here");
        var runner = new MetricSet();
        using (var source = new HostProcfsSource())
        {
            source.Collect(new CycleContext(Array.Empty<VmDomain>(), DateTimeOffset.Now, NullProbeLog.Instance, default), runner);
        }

        var rebuilt = SampleExposition.ToMetricSet(HostStatReader.Read(DateTimeOffset.Now, NullProbeLog.Instance));
        Assert.Equal(Shape(runner), Shape(rebuilt));
        Assert.Equal(Series(runner), Series(rebuilt));
    }

    [SkippableFact]
    public void DomainStatSamplesHaveTheLibvirtSourceSeries()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        var runner = new MetricSet();
        using (var session = new LibvirtSession(LibvirtTestDriver.NodeUri, TimeSpan.FromSeconds(30), NullProbeLog.Instance))
        using (var source = new LibvirtDomainSource(session))
        {
            source.Collect(new CycleContext(Array.Empty<VmDomain>(), DateTimeOffset.Now, NullProbeLog.Instance, default), runner);
        }

        var samples = LibvirtStatReader.Read(LibvirtTestDriver.NodeUri, null, DateTimeOffset.Now, NullProbeLog.Instance);
        var rebuilt = SampleExposition.ToMetricSet(samples);

        Assert.Equal(Shape(runner), Shape(rebuilt));
        Assert.Equal(Series(runner), Series(rebuilt));
        Assert.Equal(Render(runner), Render(rebuilt));
        Assert.Contains(samples, s => s.Family == "domain_info" && s.Scope == VmSampleScope.Domain && s.Uuid is not null);
    }

    [SkippableFact]
    public void DomainStatSamplesOfChosenDomainsLeaveOthersAndAggregatesOut()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        var all = LibvirtStatReader.Read(LibvirtTestDriver.NodeUri, null, DateTimeOffset.Now, NullProbeLog.Instance);
        var uuids = all.Where(s => s.Uuid is not null).Select(s => s.Uuid!.Value).Distinct().ToArray();
        Skip.If(uuids.Length < 2, "the fixture node has fewer than two domains");

        var one = LibvirtStatReader.Read(LibvirtTestDriver.NodeUri, new[] { uuids[0] }, DateTimeOffset.Now, NullProbeLog.Instance);

        Assert.NotEmpty(one);
        Assert.All(one, s => Assert.Equal(uuids[0], s.Uuid));
        Assert.DoesNotContain(one, s => s.Family == "domains");
        Assert.Contains(all, s => s.Family == "domains");
    }

    [Fact]
    public void ConvertToPromTextRendersWhatThePesterSuiteExpects()
    {
        var sample = new VmPerfSample { Scope = VmSampleScope.Host, Event = "task_clock", Value = 42 };

        var text = Render(SampleExposition.ToMetricSet(new object[] { sample }));

        Assert.Matches("(?m)^# TYPE vmprobe_host_perf_events_total counter$", text);
        Assert.Matches("(?m)^vmprobe_host_perf_events_total\\{event=\"task_clock\"\\} 42$", text);
        Assert.EndsWith("\n", text);
    }

    [Fact]
    public void ConfigWithoutAPathIsReadFromEtcVmprobe()
    {
        Assert.Equal("/etc/vmprobe/config.yaml", VmProbe.Config.ConfigLoader.DefaultPath);
        var error = Record.Exception(() => VmProbe.Config.ConfigLoader.Load(VmProbe.Config.ConfigLoader.DefaultPath));
        if (!File.Exists("/etc/vmprobe/config.yaml"))
        {
            Assert.Contains("/etc/vmprobe/config.yaml", Assert.IsAssignableFrom<VmProbeException>(error).Message);
        }
    }

    private static string Render(MetricSet metrics) => Encoding.UTF8.GetString(new PromTextWriter("vmprobe").Render(metrics, out _).Span);
}
