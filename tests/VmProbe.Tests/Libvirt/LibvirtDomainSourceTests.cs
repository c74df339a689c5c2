using VmProbe.Libvirt;
using VmProbe.Prometheus;
using Xunit;

namespace VmProbe.Tests.Libvirt;

public class LibvirtDomainSourceTests
{
    [SkippableFact]
    public void CollectOnTestNodeEmitsInfoAndStateCounts()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        using var source = new LibvirtDomainSource(new LibvirtSession(LibvirtTestDriver.NodeUri, TimeSpan.FromSeconds(30), NullProbeLog.Instance), ownsSession: true);
        var metrics = new MetricSet();

        source.Collect(new CycleContext(Array.Empty<VmDomain>(), DateTimeOffset.UtcNow, NullProbeLog.Instance, CancellationToken.None), metrics);

        Assert.Equal("libvirt", source.Name);
        Assert.True(metrics.TryGet("domain_info", out var info));
        Assert.Equal(new[] { "domain", "uuid", "state" }, info.LabelNames);
        var byName = info.Samples.ToDictionary(s => s.LabelValues[0]);
        Assert.Equal(4, byName.Count);
        Assert.Equal(new[] { "web-01.prod", "11111111-2222-3333-4444-555555555555", "running" }, byName["web-01.prod"].LabelValues);
        Assert.Equal("shutoff", byName["o'neil \"quoted\""].LabelValues[2]);
        Assert.All(info.Samples, s => Assert.Equal(1, s.Value));

        Assert.True(metrics.TryGet("domains", out var domains));
        var counts = domains.Samples.ToDictionary(s => s.LabelValues[0], s => s.Value);
        Assert.Equal(2, counts["running"]);
        Assert.Equal(2, counts["shutoff"]);
        Assert.Equal(0, counts["paused"]);
    }

    [Fact]
    public void EmitConvertsToBaseUnitsAndSkipsUnnamedDevices()
    {
        var stats = new DomainStats { Name = "vm a", Uuid = Guid.Parse("11111111-2222-3333-4444-555555555555") };
        stats.State = VmDomainState.Paused;
        stats.CpuTimeNs = 2_500_000_000;
        stats.Balloon.CurrentKiB = 131072;
        stats.Balloon.RssKiB = 1000;
        stats.VcpuCurrent = 2;
        stats.Vcpus.Add(new VcpuStats { Index = 1 });
        stats.Vcpus[0].TimeNs = 1_000_000_000;
        stats.Vcpus[0].WaitNs = 500_000_000;
        stats.NetCount = 2;
        stats.Interfaces.Add(new InterfaceStats { Index = 1 });
        stats.Interfaces[0].Name = "vnet3";
        stats.Interfaces[0].RxBytes = 77;
        stats.Interfaces.Add(new InterfaceStats { Index = 2 });
        stats.Interfaces[1].RxBytes = 5;
        stats.Blocks.Add(new BlockStats { Index = 0 });
        stats.Blocks[0].Name = "vda";
        stats.Blocks[0].WriteBytes = 4096;

        using var source = new LibvirtDomainSource(new LibvirtSession("test:///default", TimeSpan.FromSeconds(1), NullProbeLog.Instance), ownsSession: true);
        var metrics = new MetricSet();
        source.Emit(new[] { stats }, metrics);

        Assert.Equal(2.5, Single(metrics, "domain_cpu_seconds_total").Value);
        Assert.Empty(Family(metrics, "domain_cpu_user_seconds_total").Samples);
        Assert.Equal(131072 * 1024.0, Single(metrics, "domain_memory_balloon_current_bytes").Value);
        Assert.Equal(1000 * 1024.0, Single(metrics, "domain_memory_rss_bytes").Value);
        var vcpu = Single(metrics, "domain_vcpu_seconds_total");
        Assert.Equal(new[] { "vm a", "11111111-2222-3333-4444-555555555555", "1" }, vcpu.LabelValues);
        Assert.Equal(1.0, vcpu.Value);
        Assert.Equal(0.5, Single(metrics, "domain_vcpu_wait_seconds_total").Value);
        Assert.Empty(Family(metrics, "domain_vcpu_delay_seconds_total").Samples);
        Assert.Equal(2, Single(metrics, "domain_vcpus").Value);
        var rx = Single(metrics, "domain_network_receive_bytes_total");
        Assert.Equal("vnet3", rx.LabelValues[2]);
        Assert.Equal(77, rx.Value);
        var write = Single(metrics, "domain_block_write_bytes_total");
        Assert.Equal("vda", write.LabelValues[2]);
        Assert.Equal(4096, write.Value);
        Assert.Equal("paused", Single(metrics, "domain_info").LabelValues[2]);
        Assert.Equal(1, Family(metrics, "domains").Samples.Single(s => s.LabelValues[0] == "paused").Value);
        Assert.All(metrics.Families.Where(f => f.Name.EndsWith("_total", StringComparison.Ordinal)), f => Assert.Equal(MetricType.Counter, f.Type));
    }

    [SkippableFact]
    public void TheTestDriverLacksTheVmGroupAndTheOtherStatsStillComeWithOneLogLine()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        var log = new RecordingLog();
        using var source = new LibvirtDomainSource(
            new LibvirtSession("test:///default", TimeSpan.FromSeconds(30), log), ownsSession: true, requestVmGroup: true, log: log);
        var shared = new CycleState();

        for (var cycle = 0; cycle < 4; cycle++)
        {
            shared.BeginCycle();
            var metrics = new MetricSet();
            source.Collect(new CycleContext(Array.Empty<VmDomain>(), DateTimeOffset.UtcNow, log, CancellationToken.None) { Shared = shared }, metrics);

            Assert.Equal(new[] { "test", "running" }, Single(metrics, "domain_info").LabelValues.Where((_, i) => i != 1));
            var share = shared.Get<HypervisorStatsShare>();
            Assert.True(share.VmGroupRequested); // asked without ENFORCE_STATS: the driver leaves the group out
            Assert.Null(share.For(Single(metrics, "domain_info").LabelValues[1] is var uuid ? Guid.Parse(uuid) : Guid.Empty));
            Assert.Contains("no VIR_DOMAIN_STATS_VM data for any of its 1 running domain(s)", share.VmGroupUnavailable);
        }

        Assert.Null(source.VmGroupUnavailable); // not rejected: no retry
        var line = Assert.Single(log.Lines, l => l.Message.Contains("VIR_DOMAIN_STATS_VM", StringComparison.Ordinal));
        Assert.Contains("test:///default", line.Message);
    }

    [SkippableFact]
    public void WithoutKvmStatsTheVmGroupIsNotAskedFor()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        var log = new RecordingLog();
        using var source = new LibvirtDomainSource(new LibvirtSession("test:///default", TimeSpan.FromSeconds(30), log), ownsSession: true, log: log);
        var metrics = new MetricSet();

        source.Collect(new CycleContext(Array.Empty<VmDomain>(), DateTimeOffset.UtcNow, log, CancellationToken.None) { Shared = new CycleState() }, metrics);

        Assert.Single(Family(metrics, "domain_info").Samples);
        Assert.Null(source.VmGroupUnavailable);
        Assert.DoesNotContain(log.Lines, l => l.Message.Contains("VIR_DOMAIN_STATS_VM", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void ListerMapsDomainsAndReadsPidFiles()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        var pidDir = Directory.CreateTempSubdirectory("vmprobe-pids-");
        try
        {
            File.WriteAllText(Path.Combine(pidDir.FullName, "web-01.prod.pid"), "4242");
            File.WriteAllText(Path.Combine(pidDir.FullName, "db main.pid"), "garbage");
            using var session = new LibvirtSession(LibvirtTestDriver.NodeUri, TimeSpan.FromSeconds(30), NullProbeLog.Instance);
            var lister = new LibvirtDomainLister(session, pidDir.FullName);

            var running = lister.ListDomains().ToDictionary(d => d.Name);
            Assert.Equal(new[] { "db main", "web-01.prod" }, running.Keys.Order(StringComparer.Ordinal));
            var web = running["web-01.prod"];
            Assert.Equal(4242, web.Pid);
            Assert.Equal(Guid.Parse("11111111-2222-3333-4444-555555555555"), web.Uuid);
            Assert.Equal(VmDomainState.Running, web.State);
            Assert.Equal(LibvirtTestDriver.NodeUri, web.Uri);
            Assert.True(web.Id > 0);
            Assert.True(web.MemoryBytes > 0 && web.MemoryBytes % 1024 == 0);
            Assert.Equal(0, running["db main"].Pid);

            var all = lister.ListDomains(includeInactive: true);
            Assert.Equal(4, all.Count);
            Assert.All(all.Where(d => d.State == VmDomainState.Shutoff), d => Assert.Equal((-1, 0), (d.Id, d.Pid)));
            Assert.Equal(0, lister.ReadPid("../etc/passwd"));
        }
        finally
        {
            pidDir.Delete(recursive: true);
        }
    }

    private static MetricFamily Family(MetricSet metrics, string name)
    {
        Assert.True(metrics.TryGet(name, out var family), $"family {name} missing");
        return family;
    }

    private static MetricSample Single(MetricSet metrics, string name) => Assert.Single(Family(metrics, name).Samples);
}
