using VmProbe.Kvm.Exits;
using Xunit;
using static VmProbe.Tests.Kvm.Exits.KvmExitFixtures;

namespace VmProbe.Tests.Kvm.Exits;

/// <summary>Measure-VmKvmExit's objects from two fixture snapshots 2 s apart (the second has 3x the cumulative counts).</summary>
public class KvmExitReportTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-12-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void OneObjectPerDomainAndReasonSortedByCount()
    {
        var stats = KvmExitReport.Compute(new[] { Web, Db }, Snapshot(1), Snapshot(3), TimeSpan.FromSeconds(2), "bpf-latency", Now);

        Assert.Equal(new[] { "web/EPT_VIOLATION", "web/HLT", "web/IO_INSTRUCTION", "web/0x63", "db/MSR_WRITE" }, stats.Select(s => $"{s.Domain}/{s.Reason}"));
        var ept = stats[0];
        Assert.Equal(1800UL, ept.Count);
        Assert.Equal(900, ept.Rate, 9);
        Assert.Equal(100.0 * 1800 / 2022, ept.Share, 9);
        Assert.Equal(1.5, ept.MeanUs!.Value, 9); // the sum's mean, 1500 ns
        Assert.Equal(1.024, ept.MinUs!.Value, 9);
        Assert.Equal(2.048, ept.MaxUs!.Value, 9);
        Assert.Null(stats[3].MeanUs); // no histogram for the unknown reason
        Assert.Equal(100.0, stats[4].Share, 9);
        Assert.All(stats, s => Assert.Equal(("bpf-latency", Now, TimeSpan.FromSeconds(2)), (s.Mode, s.Timestamp, s.Interval)));
        Assert.Equal(100.0, stats.Where(s => s.Domain == "web").Sum(s => s.Share), 9);
    }

    [Fact]
    public void DomainsWithoutExitsAndResetCounters()
    {
        var idle = new VmDomain { Name = "idle", Pid = 999 };
        Assert.Empty(KvmExitReport.Compute(new[] { idle }, Snapshot(1), Snapshot(2), TimeSpan.FromSeconds(1), "perf-filter", Now));

        // A tracer restarted between the snapshots: the newer counts are the interval's.
        var reset = KvmExitReport.Compute(new[] { Db }, Snapshot(5), Snapshot(1), TimeSpan.FromSeconds(1), "perf-filter", Now);
        Assert.Equal(50UL, Assert.Single(reset).Count);
    }
}
