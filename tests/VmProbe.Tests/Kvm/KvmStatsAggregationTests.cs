using System.Text;
using VmProbe.Kvm;
using VmProbe.Prometheus;
using Xunit;
using static VmProbe.Tests.Kvm.KvmStatsFixture;

namespace VmProbe.Tests.Kvm;

/// <summary>The per-domain sums kept across cycles (<see cref="KvmStatsAggregation"/>) against the sums made afresh.</summary>
public class KvmStatsAggregationTests
{
    private static string Render(MetricSet set) => Encoding.UTF8.GetString(new PromTextWriter("vmprobe").Render(set, out _).Span);

    private static string Emit(IReadOnlyList<KvmStatsSnapshot> snapshots, Func<string, bool>? allow, KvmStatsAggregation? sums)
    {
        var set = new MetricSet();
        KvmStatsEmitter.AddDomain(set, perVcpu: false, "vm1", "u1", snapshots, allow, sums);
        return Render(set);
    }

    /// <summary>Two x86 vCPUs, the VM's fd, and a vCPU whose <c>exits</c> has another type (left out: the first shape wins).</summary>
    private static KvmStatsSnapshot[] Domain() => new[]
    {
        Read(X86Vcpu(0).Build()),
        Read(X86Vcpu(1, seed: 3).Build()),
        Read(new KvmStatsFixture { Id = "kvm-7" }.Stat("remote_tlb_flush", Cumulative, 0, 5).Stat("max_mmu_page_hash_collisions", Peak, 0, 2).Build()),
        Read(new KvmStatsFixture { Id = "kvm-7/vcpu-2" }.Stat("exits", Peak, 0, 1_000_000).Stat("max_mmu_page_hash_collisions", Peak, 0, 9)
            .Add("halt_wait_hist", LogHist | UnitSeconds | BasePow10, -9, 4, 0, new ulong[] { 1, 2, 3, 4 }).Build()),
    };

    private static void Set(KvmStatsSnapshot snapshot, string name, params ulong[] values)
    {
        var segment = snapshot.Readings.Single(r => r.Descriptor.Name == name).Values;
        values.CopyTo(segment.Array!, segment.Offset);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WritesWhatTheSumsMadeAfreshWrite(bool allowList)
    {
        Func<string, bool>? allow = allowList ? name => name is "exits" or "halt_wait_hist" or "max_mmu_page_hash_collisions" : null;
        var snapshots = Domain();

        var kept = Emit(snapshots, allow, new KvmStatsAggregation());

        Assert.Equal(Emit(snapshots, allow, sums: null), kept);
        Assert.Contains("vmprobe_domain_kvm_max_mmu_page_hash_collisions{domain=\"vm1\",uuid=\"u1\"} 9\n", kept);
        Assert.DoesNotContain("1000000", kept); // the Peak-typed exits of vCPU 2 is not added to the counters
        Assert.Contains("vmprobe_domain_kvm_halt_wait_hist_seconds_count", kept);
    }

    [Fact]
    public void KeepsItsPlanWhileTheFdsStayFollowsTheirValuesAndPlansAgainWhenTheyChange()
    {
        var sums = new KvmStatsAggregation();
        var snapshots = Domain();
        var first = Emit(snapshots, null, sums);

        // A new read refills the same snapshots: the sums follow, the plan stays.
        Set(snapshots[0], "exits", 5000);
        Set(snapshots[1], "halt_wait_hist", Enumerable.Repeat(7UL, snapshots[1].Readings.Single(r => r.Descriptor.Name == "halt_wait_hist").Values.Count).ToArray());
        var second = Emit(snapshots, null, sums);

        Assert.Equal(1, sums.Plans);
        Assert.NotEqual(first, second);
        Assert.Equal(Emit(snapshots, null, sums: null), second);

        // A vCPU plugged (a new fd, a new snapshot): planned again, and it counts.
        var plugged = snapshots.Append(Read(X86Vcpu(3, seed: 11).Build())).ToArray();
        var third = Emit(plugged, null, sums);

        Assert.Equal(2, sums.Plans);
        Assert.Equal(Emit(plugged, null, sums: null), third);
        Assert.NotEqual(second, third);

        // An fd opened again (as many fds, one of them new): planned again, the new one's values count.
        plugged[1] = Read(X86Vcpu(1, seed: 5).Build());
        Assert.Equal(Emit(plugged, null, sums: null), Emit(plugged, null, sums));
        Assert.Equal(3, sums.Plans);

        // Another allow-list: planned again.
        Assert.Equal(Emit(plugged, name => name == "exits", sums: null), Emit(plugged, name => name == "exits", sums));
        Assert.Equal(4, sums.Plans);
    }

    [Fact]
    public void HistogramsOverBoundsMadeOnceMatchThoseMadeEachTime()
    {
        var bounds = new[] { 0d, 1e-9, 3e-9 };
        var counts = new ulong[] { 1, 2, 3, 4 };

        var shared = HistogramValue.FromCheckedBounds(bounds, counts);
        var fresh = HistogramValue.FromBucketCounts(bounds, counts.Select(c => (double)c).ToArray());

        Assert.Equal(fresh.Buckets, shared.Buckets);
        Assert.Equal(fresh.Count, shared.Count);
        Assert.Throws<ArgumentException>(() => HistogramValue.FromCheckedBounds(bounds, counts.AsSpan(1)));
        Assert.True(HistogramValue.AreValidBounds(bounds));
        Assert.False(HistogramValue.AreValidBounds(new[] { 1d, 1d }));
        Assert.False(HistogramValue.AreValidBounds(new[] { 0d, double.PositiveInfinity }));
    }
}
