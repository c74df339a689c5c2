using VmProbe.Bpf;
using VmProbe.Kvm.Exits;
using VmProbe.Tests.Bpf;
using VmProbe.Tests.Infrastructure;
using Xunit;
using Raw = VmProbe.Bpf;

namespace VmProbe.Tests.Kvm.Exits;

/// <summary>
/// The eBPF tracer as the exits source sees it: the source picks it where eBPF runs (this machine, as root), it writes
/// the mode, and closing the source leaves no BPF fd; the records of the BPF maps become the source's per process.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public class BpfExitTracerTests
{
    private static CycleContext Cycle() => new(Array.Empty<VmDomain>(), DateTimeOffset.Now, NullProbeLog.Instance, CancellationToken.None);

    [SkippableTheory]
    [InlineData(KvmExitsMode.Counts, "bpf-counts")]
    [InlineData(KvmExitsMode.Latency, "bpf-latency")]
    public void TheSourceRunsTheEbpfTracerWhereItLoadsAndClosesIt(KvmExitsMode mode, string expected)
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        var before = BpfHost.BpfFds();
        var mappingsBefore = BpfHost.BpfMapMappings();
        using (var source = new KvmExitsSource(new KvmExitsOptions { Mode = mode }, NullProbeLog.Instance, "/"))
        {
            var metrics = new MetricSet();
            source.Collect(Cycle(), metrics);
            Assert.True(metrics.TryGet(KvmExitFamilies.Mode.Name, out var family));
            Assert.Contains(expected, Assert.Single(family.Samples).LabelValues);
            Assert.True(BpfHost.BpfFds().Count > before.Count, "no BPF program or map is open while the source runs");
            Assert.True(BpfHost.BpfMapMappings() > mappingsBefore, "the change count is not mmapped");

            // The second cycle reuses the first snapshot (nothing fires here): the same families come out.
            var again = new MetricSet();
            source.Collect(Cycle(), again);
            Assert.Equal(metrics.Families.Select(f => f.Name).Order(), again.Families.Select(f => f.Name).Order());
        }

        Assert.Equal(before.Keys.Order(), BpfHost.BpfFds().Keys.Order());
        Assert.Equal(mappingsBefore, BpfHost.BpfMapMappings()); // Dispose unmapped it too
    }

    [Fact]
    public void MapRecordsBecomePerProcessEventsAndKeepTheirIsa()
    {
        var raw = new Raw.KvmExitSnapshot(
            new[] { new Raw.KvmExitCount(100, 101, 1, 30, 7), new Raw.KvmExitCount(100, 0, 1, 12, 3), new Raw.KvmExitCount(200, 201, 2, 0x78, 5) },
            new[] { new KvmExitHandlingTime(200, 0x78, new BpfHistogram(new ulong[] { 0, 2, 3 }, 40, 5)) },
            new[] { new KvmUserspaceExit(100, 2, 0, 4), new KvmUserspaceExit(100, 0, 4, 9) },
            new[] { new KvmPageFaults(100, 10, 2, 1) },
            new[] { new KvmHaltPollChanges(200, 6, 1) },
            new[]
            {
                new KvmWakeups(200, true, 5, 1, new BpfHistogram(new ulong[] { 1, 1 }, 3, 2)),
                new KvmWakeups(200, false, 2, 0, new BpfHistogram(new ulong[] { 0, 0, 4 }, 20, 4)),
            },
            new[] { new KvmIrqInjection(100, KvmIrqKind.Virq, 8), new KvmIrqInjection(100, KvmIrqKind.Msi, 2), new KvmIrqInjection(200, KvmIrqKind.Ioapic, 1) });

        var snapshot = BpfExitTracer.Convert(raw);

        Assert.Equal(new[] { (100, 101, KvmExitIsa.Vmx, 30u, 7ul), (100, 0, KvmExitIsa.Vmx, 12u, 3ul), (200, 201, KvmExitIsa.Svm, 0x78u, 5ul) },
            snapshot.Exits.Select(e => (e.Tgid, e.Tid, e.Isa, e.Reason, e.Count)));
        var latency = Assert.Single(snapshot.Latencies);
        Assert.Equal((200, KvmExitIsa.Svm, 0x78u, 5ul, (ulong?)40), (latency.Tgid, latency.Isa, latency.Reason, latency.Histogram.Count, latency.Histogram.SumNs));

        // A KVM_RUN that failed (EINTR) is not an exit to userspace with a reason.
        Assert.Equal((100, 2u, 4ul), Assert.Single(snapshot.UserspaceExits) is var u ? (u.Tgid, u.Reason, u.Count) : default);

        var vm100 = Assert.Single(snapshot.Events, e => e.Tgid == 100);
        Assert.Equal((10ul, (ulong?)3, 8ul, 2ul, 0ul), (vm100.PageFaults, vm100.MmioPageFaults, vm100.InjectedVirq, vm100.MsiSetIrq, vm100.IoapicSetIrq));
        var vm200 = Assert.Single(snapshot.Events, e => e.Tgid == 200);
        Assert.Equal((6ul, 1ul, 7ul, 1ul, 1ul), (vm200.HaltPollGrow, vm200.HaltPollShrink, vm200.WakeupsValid, vm200.WakeupsInvalid, vm200.IoapicSetIrq));
        Assert.Equal(new ulong[] { 1, 1, 4 }, vm200.WakeupHaltTime.Buckets);
        Assert.Equal(23ul, vm200.WakeupHaltTime.SumNs);
    }
}
