using System.Text;
using VmProbe.Kvm;
using VmProbe.Prometheus;
using VmProbe.Tests.Infrastructure;
using Xunit;
using static VmProbe.Tests.Kvm.KvmStatsFixture;

namespace VmProbe.Tests.Kvm;

/// <summary>The binary statistics parser and the conversion to families, on blobs built byte by byte.</summary>
public class KvmBinaryStatsTests
{
    private static string Render(MetricSet set) => Encoding.UTF8.GetString(new PromTextWriter("vmprobe").Render(set, out _).Span);

    private static KvmStatsFixture Mixed() => new KvmStatsFixture { Id = "kvm-77/vcpu-3" }
        .Stat("exits", Cumulative, 0, 12345)
        .Stat("halt_poll_success_ns", Cumulative | UnitSeconds | BasePow10, -9, 2_500_000_000)
        .Stat("guest_mode", Instant | UnitBoolean, 0, 1)
        .Stat("max_mmu_rmap_size", Peak, 0, 17)
        .Stat("pages_bytes", Instant | UnitBytes | BasePow2, 12, 3) // 3 x 4 KiB
        .Stat("some_us", Cumulative | UnitSeconds | BasePow10, -6, 1_000_000)
        .Add("lin", LinearHist, 0, 4, 10, new ulong[] { 1, 2, 3, 4 })
        .Add("halt_wait_hist", LogHist | UnitSeconds | BasePow10, -9, 5, 0, new ulong[] { 1, 1, 2, 0, 5 })
        .Stat("from_the_future", 9, 0, 99)
        .Stat("unit_of_the_future", Cumulative | (9 << 4), 0, 99)
        .Stat("base_of_the_future", Cumulative | (7 << 8), 0, 99);

    [Fact]
    public void ParsesHeaderIdDescriptorsAndSkipsWhatItDoesNotKnow()
    {
        var blob = Mixed().Build();

        var layout = KvmStatsLayout.Parse(blob, "fixture");

        Assert.Equal("kvm-77/vcpu-3", layout.Id);
        Assert.Equal(3, layout.VcpuIndex);
        Assert.Equal(new[] { "exits", "halt_poll_success_ns", "guest_mode", "max_mmu_rmap_size", "pages_bytes", "some_us", "lin", "halt_wait_hist" },
            layout.Descriptors.Select(d => d.Name));
        Assert.Equal(new[] { "from_the_future (type 9)", "unit_of_the_future (unit 9)", "base_of_the_future (base 7)" }, layout.Skipped);
        var hist = layout.Descriptors.Single(d => d.Name == "halt_wait_hist");
        Assert.True(hist.Type == KvmStatType.LogHistogram && hist.Unit == KvmStatUnit.Seconds && hist.Exponent == -9 && hist.Size == 5);
        Assert.Equal(1e-9, hist.Scale, 15);
        Assert.Equal(4096, layout.Descriptors.Single(d => d.Name == "pages_bytes").Scale);
        Assert.Equal(blob.Length, layout.DataOffset + layout.DataLength + (3 * 8));
    }

    [Fact]
    public void VmStatsFdHasNoVcpu()
    {
        var layout = KvmStatsLayout.Parse(new KvmStatsFixture { Id = "kvm-77" }.Stat("remote_tlb_flush", Cumulative, 0, 5).Build(), "fixture");

        Assert.Null(layout.VcpuIndex);
    }

    [Fact]
    public void ConvertsToBaseUnitsCountersGaugesAndHistograms()
    {
        var set = new MetricSet();
        KvmStatsEmitter.AddDomain(set, perVcpu: false, "vm1", "u1", new[] { Read(Mixed().Build()) }, allow: null);

        var text = Render(set);

        Assert.Contains("vmprobe_domain_kvm_exits_total{domain=\"vm1\",uuid=\"u1\"} 12345\n", text);
        Assert.Contains("# TYPE vmprobe_domain_kvm_halt_poll_success_seconds_total counter\n", text);
        Assert.Contains("vmprobe_domain_kvm_halt_poll_success_seconds_total{domain=\"vm1\",uuid=\"u1\"} 2.5\n", text);
        Assert.Contains("vmprobe_domain_kvm_some_seconds_total{domain=\"vm1\",uuid=\"u1\"} 1\n", text);
        Assert.Contains("# TYPE vmprobe_domain_kvm_guest_mode gauge\n", text);
        Assert.Contains("vmprobe_domain_kvm_max_mmu_rmap_size{domain=\"vm1\",uuid=\"u1\"} 17\n", text);
        Assert.Contains("vmprobe_domain_kvm_pages_bytes{domain=\"vm1\",uuid=\"u1\"} 12288\n", text);
        Assert.DoesNotContain(text.Split('\n'), l => !l.StartsWith('#') && l.Contains("_ns", StringComparison.Ordinal));
        Assert.DoesNotContain("future", text);

        // linear, bucket_size 10: [0,10) [10,20) [20,30) [30,+Inf) -> le 9, 19, 29, +Inf, cumulative
        Assert.Contains("# TYPE vmprobe_domain_kvm_lin histogram\n"
            + "vmprobe_domain_kvm_lin_bucket{domain=\"vm1\",uuid=\"u1\",le=\"9\"} 1\n"
            + "vmprobe_domain_kvm_lin_bucket{domain=\"vm1\",uuid=\"u1\",le=\"19\"} 3\n"
            + "vmprobe_domain_kvm_lin_bucket{domain=\"vm1\",uuid=\"u1\",le=\"29\"} 6\n"
            + "vmprobe_domain_kvm_lin_bucket{domain=\"vm1\",uuid=\"u1\",le=\"+Inf\"} 10\n"
            + "vmprobe_domain_kvm_lin_count{domain=\"vm1\",uuid=\"u1\"} 10\n", text);

        // log2 in ns: [0,1) [1,2) [2,4) [4,8) [8,+Inf) -> le 0, 1, 3, 7 ns in seconds
        Assert.Contains("vmprobe_domain_kvm_halt_wait_hist_seconds_bucket{domain=\"vm1\",uuid=\"u1\",le=\"0\"} 1\n"
            + "vmprobe_domain_kvm_halt_wait_hist_seconds_bucket{domain=\"vm1\",uuid=\"u1\",le=\"1E-09\"} 2\n"
            + "vmprobe_domain_kvm_halt_wait_hist_seconds_bucket{domain=\"vm1\",uuid=\"u1\",le=\"3E-09\"} 4\n"
            + "vmprobe_domain_kvm_halt_wait_hist_seconds_bucket{domain=\"vm1\",uuid=\"u1\",le=\"7E-09\"} 4\n"
            + "vmprobe_domain_kvm_halt_wait_hist_seconds_bucket{domain=\"vm1\",uuid=\"u1\",le=\"+Inf\"} 9\n", text);
    }

    [Fact]
    public void PerDomainSumsVcpusTakesMaxOfPeaksAndAddsHistogramsBucketwise()
    {
        var a = new KvmStatsFixture { Id = "kvm-1/vcpu-0" }.Stat("exits", Cumulative, 0, 10).Stat("max_x", Peak, 0, 4)
            .Add("h", LogHist, 0, 3, 0, new ulong[] { 1, 2, 3 });
        var b = new KvmStatsFixture { Id = "kvm-1/vcpu-1" }.Stat("exits", Cumulative, 0, 5).Stat("max_x", Peak, 0, 9)
            .Add("h", LogHist, 0, 3, 0, new ulong[] { 10, 20, 30 });
        var set = new MetricSet();

        KvmStatsEmitter.AddDomain(set, false, "d", "u", new[] { Read(a.Build()), Read(b.Build()) }, null);

        Assert.True(set.TryGet("domain_kvm_exits_total", out var exits));
        Assert.Equal(15, exits.Samples.Single().Value);
        Assert.True(set.TryGet("domain_kvm_max_x", out var peak));
        Assert.Equal(9, peak.Samples.Single().Value);
        Assert.True(set.TryGet("domain_kvm_h", out var h));
        Assert.Equal(new[] { 11d, 33d, 66d }, h.Samples.Single().Histogram!.Buckets.Select(x => x.CumulativeCount));
    }

    [Fact]
    public void PerVcpuWritesOneSeriesPerVcpuAndTheAllowlistFilters()
    {
        var set = new MetricSet();
        var snapshots = new[] { Read(X86Vcpu(0).Build()), Read(X86Vcpu(1, seed: 2).Build()) };

        KvmStatsEmitter.AddDomain(set, true, "d", "u", snapshots, name => name is "exits" or "halt_wait_hist");

        Assert.Equal(new[] { "domain_vcpu_kvm_halt_wait_hist_seconds", "domain_vcpu_kvm_exits_total" }, set.Families.Select(f => f.Name));
        Assert.True(set.TryGet("domain_vcpu_kvm_exits_total", out var exits));
        Assert.Equal(new[] { ("0", 1000d), ("1", 2000d) }, exits.Samples.Select(s => (s.LabelValues[2], s.Value)));
    }

    [Fact]
    public void PerVcpuWritesTheVmWideStatisticsPerDomain()
    {
        var set = new MetricSet();
        var snapshots = new[] { Read(X86Vcpu(0).Build()), Read(new KvmStatsFixture { Id = "kvm-7" }.Stat("remote_tlb_flush", Cumulative, 0, 5).Build()) };

        KvmStatsEmitter.AddDomain(set, true, "d", "u", snapshots, null);

        var text = Render(set);
        Assert.Contains("vmprobe_domain_kvm_remote_tlb_flush_total{domain=\"d\",uuid=\"u\"} 5\n", text);
        Assert.Contains("vmprobe_domain_vcpu_kvm_exits_total{domain=\"d\",uuid=\"u\",vcpu=\"0\"} 1000\n", text);
    }

    [SkippableFact]
    public void RealisticOutputIsPromtoolClean()
    {
        Skip.IfNot(Promtool.IsAvailable, Promtool.UnavailableReason);
        var set = new MetricSet();
        var snapshots = Enumerable.Range(0, 4).Select(v => Read(X86Vcpu(v, (ulong)v + 1).Build())).ToList();
        KvmStatsEmitter.AddDomain(set, false, "vm1", "0e1d2c3b-0000-0000-0000-000000000001", snapshots, null);
        KvmStatsEmitter.AddDomain(set, true, "vm2", "0e1d2c3b-0000-0000-0000-000000000002", snapshots, null);
        set.Family(KvmFamilies.StatsInfo).Add(1, "vm1", "0e1d2c3b-0000-0000-0000-000000000001", "binary");

        var (exitCode, output) = Promtool.Check(Render(set));

        Assert.Equal(string.Empty, output);
        Assert.Equal(0, exitCode);
    }

    public static TheoryData<string, Func<byte[]>> Lies => new()
    {
        { "truncated", () => new byte[10] },
        { "truncated", () => Mixed().Build()[..23] },
        { "offset", () => Mixed().Build()[..200] },
        { "offset", () => new KvmStatsFixture { DescOffsetOverride = 0xFFFF_FFF0 }.Stat("a", 0, 0, 1).Build() },
        { "offset", () => new KvmStatsFixture { IdOffsetOverride = 0xFFFF_FFFF }.Stat("a", 0, 0, 1).Build() },
        { "offset", () => new KvmStatsFixture { IdOffsetOverride = 4 }.Stat("a", 0, 0, 1).Build() },
        { "offset", () => new KvmStatsFixture { DataOffsetOverride = 0xFFFF_FFFF }.Stat("a", 0, 0, 1).Build() },
        { "offset", () => new KvmStatsFixture { NumDescOverride = 50 }.Stat("a", 0, 0, 1).Build() },
        { "size", () => new KvmStatsFixture { NumDescOverride = 0xFFFF_FFFF }.Stat("a", 0, 0, 1).Build() },
        { "name", () => Patch(new KvmStatsFixture().Stat("a", 0, 0, 1).Build(), 4, 0xFFFF_FFFF) },
        { "name", () => Patch(new KvmStatsFixture().Stat("a", 0, 0, 1).Build(), 4, 0) },
        { "offset", () => Patch(new KvmStatsFixture().Stat("a", 0, 0, 1).Build(), 4, 4000) },
        { "name", () => new KvmStatsFixture { UnterminatedNames = true, NameSize = 8 }.Stat("abcdefghij", 0, 0, 1).Build() },
        { "name", () => new KvmStatsFixture().Stat("", 0, 0, 1).Build() },
        { "offset", () => new KvmStatsFixture().Add("past_the_end", 0, 0, 1, 0, new ulong[] { 1 }, offset: 4096).Build()[..300] },
        { "offset", () => new KvmStatsFixture().Stat("a", 0, 0, 1).Add("huge", LogHist, 0, ushort.MaxValue, 0, new ulong[] { 1, 2 }).Build() },
    };

    private static byte[] Patch(byte[] blob, int offset, uint value)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(offset), value);
        return blob;
    }

    [Theory]
    [MemberData(nameof(Lies))]
    public void ALyingOrTruncatedBlobIsAClearErrorNeverACrash(string reason, Func<byte[]> blob)
    {
        var error = Assert.Throws<KvmStatsException>(() => KvmStatsLayout.Parse(blob(), "pid 1 fd 9"));

        Assert.Equal("kvm_stats_format," + reason, error.ErrorId);
        Assert.Contains("pid 1 fd 9", error.Message);
    }

    [Fact]
    public void BadDescriptorsAreSkippedNotGuessed()
    {
        var layout = KvmStatsLayout.Parse(new KvmStatsFixture()
            .Add("zero_size", Cumulative, 0, 0, 0, Array.Empty<ulong>())
            .Add("scalar_of_two", Cumulative, 0, 2, 0, new ulong[] { 1, 2 })
            .Add("lin_no_bucket", LinearHist, 0, 2, 0, new ulong[] { 1, 2 })
            .Stat("ok", Cumulative, 0, 1)
            .Stat("ok", Cumulative, 0, 2)
            .Build(), "fixture");

        Assert.Equal(new[] { "ok" }, layout.Descriptors.Select(d => d.Name));
        Assert.Equal(4, layout.Skipped.Count);
    }

    [Theory]
    [InlineData("halt_poll_success_ns", 0, 2, "halt_poll_success_seconds_total")]
    [InlineData("halt_wait_hist", 4, 2, "halt_wait_hist_seconds")]
    [InlineData("exits", 0, 0, "exits_total")]
    [InlineData("blocking", 1, 4, "blocking")]
    [InlineData("odd-Name.x", 2, 1, "odd_name_x_bytes")]
    [InlineData("weird_total", 1, 0, "weird_value")]
    [InlineData("already_total", 0, 0, "already_total")]
    public void Names(string kvmName, int type, int unit, string expected) =>
        Assert.Equal(expected, KvmStatsEmitter.MetricName(new KvmStatDescriptor(kvmName, (KvmStatType)type, (KvmStatUnit)unit, KvmStatBase.Pow10, 0, 1, 0, 0)));
}
