using VmProbe.Config;
using VmProbe.Procfs;
using VmProbe.Tests.Procfs;
using Xunit;
using VmProbe.Composition;

namespace VmProbe.Tests.Domains;

public class ProbeCompositionTests
{
    private static ProbeCompositionOptions KvmHostFixture => new()
    {
        Root = ProcfsParserTests.KvmHost,
        CgroupRoot = ProcfsFixtures.CgroupTree,
    };

    [Fact]
    public void ProcessDiscovery_CycleHasHostAndDomainSeries()
    {
        var config = new ProbeConfig { Discovery = DomainDiscovery.Process, DelayMs = 1000 };
        using var composition = ProbeComposition.Create(config, NullProbeLog.Instance, KvmHostFixture);
        Assert.IsType<ProcessDomainDiscovery>(composition.Discovery);
        Assert.Equal(new[] { "host", "procfs", "kvm", "kvmexits", "power" }, composition.Sources.Select(s => s.Name));
        Assert.Equal(ProbeComposition.DescribeSources(config), composition.Sources.Select(s => s.Name));

        var cycle = composition.CreateCycle();
        var set = cycle.Collect(default);
        Assert.Equal(new[] { "web-01", "db.prod \"eu\",main" }, cycle.LastDomains.Select(d => d.Name));
        Assert.Equal(2.0, DomainProcfsSourceTests.Value(set, "probe_domains"));
        Assert.Equal(new[] { "web-01", "db.prod \"eu\",main" }, DomainProcfsSourceTests.Series(set, "domain_threads").Select(s => s.LabelValues[0]));
        Assert.True(set.TryGet("host_cpu_seconds_total", out _));
        Assert.All(composition.Sources, s => Assert.Equal(0, cycle.ErrorCount(s.Name)));
        Assert.Equal(0, cycle.ErrorCount(ProcessDomainDiscovery.SourceName));
    }

    [Fact]
    public void Dispose_Twice_AndPartsAfterward_AreSafe()
    {
        var composition = ProbeComposition.Create(new ProbeConfig { Discovery = DomainDiscovery.Process }, NullProbeLog.Instance, KvmHostFixture);
        var parts = composition.Sources.Cast<IDisposable>().Append((IDisposable)composition.Discovery!).ToArray();
        foreach (var part in parts)
        {
            part.Dispose();
        }

        composition.Dispose();
        composition.Dispose();
        Assert.Throws<ObjectDisposedException>(() => composition.Sink);
    }
}
