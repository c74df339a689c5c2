using VmProbe.Kvm.Exits;

namespace VmProbe.Tests.Kvm.Exits;

/// <summary>Snapshots as an eBPF tracer on a VMX host would hand them out: two domains (pids 100, 200) and a process no domain owns (300).</summary>
internal static class KvmExitFixtures
{
    public static readonly VmDomain Web = new() { Name = "web", Uuid = Guid.Parse("11111111-2222-3333-4444-555555555555"), Pid = 100, Vcpus = new[] { new VmVcpu(0, 101), new VmVcpu(1, 102) } };
    public static readonly VmDomain Db = new() { Name = "db", Pid = 200, Vcpus = new[] { new VmVcpu(0, 201) } };

    public static Log2Histogram Slot(int slot, ulong count, ulong? sum = null)
    {
        var buckets = new ulong[slot + 1];
        buckets[slot] = count;
        return new Log2Histogram(buckets, sum);
    }

    /// <summary>Cumulative counts, scaled by <paramref name="k"/> (a later snapshot of the same tracer).</summary>
    public static KvmExitSnapshot Snapshot(ulong k = 1) => new(
        new[]
        {
            new KvmExitCount(100, 101, KvmExitIsa.Vmx, 48, 600 * k), // EPT_VIOLATION
            new KvmExitCount(100, 102, KvmExitIsa.Vmx, 48, 300 * k),
            new KvmExitCount(100, 101, KvmExitIsa.Vmx, 12, 100 * k), // HLT
            new KvmExitCount(100, 102, KvmExitIsa.Vmx, 30, 10 * k), // IO_INSTRUCTION
            new KvmExitCount(100, 102, KvmExitIsa.Vmx, 99, 1 * k), // unknown
            new KvmExitCount(200, 201, KvmExitIsa.Vmx, 32, 50 * k), // MSR_WRITE
            new KvmExitCount(300, 301, KvmExitIsa.Vmx, 48, 7 * k),
        },
        new[]
        {
            new KvmExitLatency(100, KvmExitIsa.Vmx, 48, Slot(10, 900 * k, 900 * k * 1500)),
            new KvmExitLatency(100, KvmExitIsa.Vmx, 12, Slot(20, 100 * k, 100 * k * 1_500_000)),
            new KvmExitLatency(100, KvmExitIsa.Vmx, 30, Slot(14, 10 * k, 10 * k * 20_000)),
            new KvmExitLatency(200, KvmExitIsa.Vmx, 32, Slot(9, 50 * k, 50 * k * 700)),
        },
        new[] { new KvmUserspaceExitCount(100, 2, 10 * k), new KvmUserspaceExitCount(100, 6, 3 * k) },
        new[]
        {
            new KvmProcessEvents(100)
            {
                PageFaults = 40 * k, MmioPageFaults = 4 * k, HaltPollGrow = 2 * k, HaltPollShrink = 1 * k, WakeupsValid = 90 * k,
                WakeupsInvalid = 10 * k, WakeupHaltTime = Slot(22, 100 * k), InjectedVirq = 500 * k, MsiSetIrq = 30 * k,
            },
        });
}
