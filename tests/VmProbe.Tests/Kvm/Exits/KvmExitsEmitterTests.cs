using VmProbe.Kvm.Exits;
using Xunit;
using static VmProbe.Tests.Kvm.Exits.KvmExitFixtures;

namespace VmProbe.Tests.Kvm.Exits;

public class KvmExitsEmitterTests
{
    private static MetricSet Emit(KvmExitsOptions options)
    {
        var metrics = new MetricSet();
        var source = new KvmExitsSource(options);
        KvmExitsEmitter.Add(metrics, Snapshot(), new[] { Web, Db }, options, source.VcpuThreads);
        return metrics;
    }

    private static Dictionary<string, double> Series(MetricSet metrics, MetricDesc desc) =>
        metrics.TryGet(desc.Name, out var family) ? family.Samples.ToDictionary(s => string.Join("|", s.LabelValues), s => s.Value) : new();

    [Fact]
    public void ExitsByReasonPerDomainAndHost()
    {
        var metrics = Emit(new KvmExitsOptions());
        var exits = Series(metrics, KvmExitFamilies.ExitsByReason);
        Assert.Equal(900, exits["web|11111111-2222-3333-4444-555555555555|EPT_VIOLATION"]);
        Assert.Equal(100, exits["web|11111111-2222-3333-4444-555555555555|HLT"]);
        Assert.Equal(1, exits["web|11111111-2222-3333-4444-555555555555|0x63"]);
        Assert.Equal(50, exits["db||MSR_WRITE"]);
        Assert.Equal(5, exits.Count);
        Assert.False(metrics.TryGet(KvmExitFamilies.VcpuExitsByReason.Name, out _)); // only when asked

        var host = Series(metrics, KvmExitFamilies.HostExitsByReason);
        Assert.Equal(907, host["EPT_VIOLATION"]); // pid 300 is no domain but counts for the host
        Assert.Equal(1068, host.Values.Sum());
    }

    [Fact]
    public void PerVcpuWhenAsked()
    {
        var vcpu = Series(Emit(new KvmExitsOptions { PerVcpu = true }), KvmExitFamilies.VcpuExitsByReason);
        Assert.Equal(600, vcpu["web|11111111-2222-3333-4444-555555555555|0|EPT_VIOLATION"]);
        Assert.Equal(300, vcpu["web|11111111-2222-3333-4444-555555555555|1|EPT_VIOLATION"]);
        Assert.Equal(50, vcpu["db||0|MSR_WRITE"]);
    }

    [Fact]
    public void HandlingHistogramsAreBoundedToTopNOrTheAllowlist()
    {
        var top = Emit(new KvmExitsOptions { TopN = 2 });
        Assert.True(top.TryGet(KvmExitFamilies.ExitHandlingByReason.Name, out var byReason));
        Assert.Equal(new[] { "web|EPT_VIOLATION", "web|HLT", "db|MSR_WRITE" }.Order(), byReason.Samples.Select(s => s.LabelValues[0] + "|" + s.LabelValues[2]).Order());
        Assert.True(top.TryGet(KvmExitFamilies.ExitHandling.Name, out var all));
        var web = all.Samples.Single(s => s.LabelValues[0] == "web").Histogram!;
        Assert.Equal(1010, web.Count);
        Assert.Equal(((900 * 1500.0) + (100 * 1_500_000.0) + (10 * 20_000.0)) / 1e9, web.Sum!.Value, 12);

        var allowed = Emit(new KvmExitsOptions { Reasons = new[] { "IO_INSTRUCTION", "npf" } });
        allowed.TryGet(KvmExitFamilies.ExitHandlingByReason.Name, out var only);
        Assert.Equal("web|IO_INSTRUCTION", Assert.Single(only.Samples).LabelValues[0] + "|" + only.Samples[0].LabelValues[2]);
        Assert.True(allowed.TryGet(KvmExitFamilies.HostExitHandling.Name, out var host));
        Assert.Equal(1060, host.Samples.Single().Value);
    }

    [Fact]
    public void UserspaceExitsAndEvents()
    {
        var metrics = Emit(new KvmExitsOptions());
        var user = Series(metrics, KvmExitFamilies.UserspaceExits);
        Assert.Equal(10, user["web|11111111-2222-3333-4444-555555555555|IO"]);
        Assert.Equal(3, user["web|11111111-2222-3333-4444-555555555555|MMIO"]);
        Assert.Equal(40, Series(metrics, KvmExitFamilies.PageFaults).Single().Value);
        Assert.Equal(4, Series(metrics, KvmExitFamilies.MmioPageFaults).Single().Value);
        Assert.Equal(2, Series(metrics, KvmExitFamilies.HaltPollWindowChanges)["web|11111111-2222-3333-4444-555555555555|grow"]);
        Assert.Equal(10, Series(metrics, KvmExitFamilies.Wakeups)["web|11111111-2222-3333-4444-555555555555|invalid"]);
        Assert.Equal(500, Series(metrics, KvmExitFamilies.IrqInjections)["web|11111111-2222-3333-4444-555555555555|virq"]);
        Assert.True(metrics.TryGet(KvmExitFamilies.HaltTime.Name, out var halt));
        Assert.Equal(100, halt.Samples.Single().Histogram!.Count);
        Assert.DoesNotContain(Series(metrics, KvmExitFamilies.PageFaults).Keys, k => k.StartsWith("db", StringComparison.Ordinal)); // db has no events record
    }

    [Fact]
    public void ACountsOnlySnapshotWritesNoHistograms()
    {
        var metrics = new MetricSet();
        var counts = Snapshot() with { Latencies = Array.Empty<KvmExitLatency>() };
        KvmExitsEmitter.Add(metrics, counts, new[] { Web }, new KvmExitsOptions(), _ => new Dictionary<int, int>());
        Assert.False(metrics.TryGet(KvmExitFamilies.ExitHandling.Name, out _));
        Assert.False(metrics.TryGet(KvmExitFamilies.HostExitHandling.Name, out _));
        Assert.True(metrics.TryGet(KvmExitFamilies.ExitsByReason.Name, out _));
    }
}
