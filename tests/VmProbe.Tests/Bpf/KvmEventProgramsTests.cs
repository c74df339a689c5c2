using VmProbe.Bpf;
using Xunit;

namespace VmProbe.Tests.Bpf;

/// <summary>
/// The kvm event programs run in the kernel on arguments laid out as their tracepoints pass them (BPF_PROG_TEST_RUN on
/// this thread: the kvm tracepoints never fire without /dev/kvm), and the snapshot reads back what each argument says.
/// Only raw_tp programs can be run so: a program that goes back to a tp/ section fails here.
/// </summary>
public class KvmEventProgramsTests
{
    [SkippableFact]
    public void EachEventProgramCountsWhatItsTracepointArgumentsSay()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        using var tracer = KvmExitTracer.Open(latency: false, maxCounts: 4096);
        var obj = tracer.Object;
        var tgid = Environment.ProcessId;

        // kvm_userspace_exit(__u32 reason, int errno): an int argument arrives as its 32 bits.
        obj.TestRunRawTracepoint("kvm_userspace_exit", [2, 0]); // KVM_EXIT_IO
        obj.TestRunRawTracepoint("kvm_userspace_exit", [2, 0]);
        obj.TestRunRawTracepoint("kvm_userspace_exit", [0, unchecked((uint)-4)]); // KVM_RUN failed: EINTR
        obj.TestRunRawTracepoint("kvm_page_fault", [0, 0x1000, 0]);
        obj.TestRunRawTracepoint("kvm_mmio_page_fault", [0xfee00000, 0xfee00, 0]);
        obj.TestRunRawTracepoint("kvm_fast_mmio", [0xfee00000]);
        obj.TestRunRawTracepoint("kvm_fast_mmio", [0xfee00000]);
        obj.TestRunRawTracepoint("kvm_halt_poll_ns", [1, 0, 20000, 10000]); // grow
        obj.TestRunRawTracepoint("kvm_halt_poll_ns", [0, 0, 10000, 20000]); // shrink
        obj.TestRunRawTracepoint("kvm_halt_poll_ns", [0, 0, 5000, 10000]);
        obj.TestRunRawTracepoint("kvm_vcpu_wakeup", [5000, 1, 0]); // (ns, waited, valid): waited and valid differ, so a swap shows
        obj.TestRunRawTracepoint("kvm_vcpu_wakeup", [300, 0, 1]);
        obj.TestRunRawTracepoint("kvm_inj_virq", [32, 0, 0]);
        obj.TestRunRawTracepoint("kvm_msi_set_irq", [0xfee00000, 0x41]);
        obj.TestRunRawTracepoint("kvm_msi_set_irq", [0xfee00000, 0x41]);
        obj.TestRunRawTracepoint("kvm_pic_set_irq", [0, 1, 0, 0, 0]);
        obj.TestRunRawTracepoint("kvm_ioapic_set_irq", [0x41, 1, 0]);

        var snapshot = tracer.Snapshot();
        Assert.Equal(
            new[] { (0u, 4, 1UL), (2u, 0, 2UL) },
            snapshot.UserspaceExits.Where(u => u.Tgid == tgid).Select(u => (u.Reason, u.Errno, u.Count)).OrderBy(u => u.Reason));
        Assert.Equal(new KvmPageFaults(tgid, 1, 1, 2), Assert.Single(snapshot.PageFaults, f => f.Tgid == tgid));
        Assert.Equal(new KvmHaltPollChanges(tgid, 1, 2), Assert.Single(snapshot.HaltPoll, h => h.Tgid == tgid));

        var waited = Assert.Single(snapshot.Wakeups, w => w.Tgid == tgid && w.Waited);
        Assert.Equal((0UL, 1UL), (waited.Valid, waited.Invalid));
        Assert.Equal((5000UL, 1UL), (waited.Histogram!.SumNs, waited.Histogram.Count));
        Assert.Equal(1UL, waited.Histogram.Buckets[12]); // 4096 <= 5000 < 8192
        var polled = Assert.Single(snapshot.Wakeups, w => w.Tgid == tgid && !w.Waited);
        Assert.Equal((1UL, 0UL, 300UL), (polled.Valid, polled.Invalid, polled.Histogram!.SumNs));

        Assert.Equal(
            new[] { (KvmIrqKind.Virq, 1UL), (KvmIrqKind.Msi, 2UL), (KvmIrqKind.Pic, 1UL), (KvmIrqKind.Ioapic, 1UL) },
            snapshot.IrqInjections.Where(i => i.Tgid == tgid).Select(i => (i.Kind, i.Count)).OrderBy(i => i.Kind));
    }

    [SkippableFact]
    public void OnlyKvmExitAndTheExitHookStayTracepointRecordPrograms()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        using var tracer = KvmExitTracer.Open(latency: true, maxCounts: 4096);
        Skip.If(tracer.Path != BpfCountPath.TaskStorage, $"the kernel took the {tracer.Path} path, not task storage (Linux 5.11+), whose program names this test lists");
        var runnable = tracer.Object.AttachedPrograms.Where(p => CanTestRun(tracer.Object, p)).OrderBy(p => p).ToArray();
        var records = tracer.Object.AttachedPrograms.Except(runnable).OrderBy(p => p).ToArray();

        // kvm_exit's reason is not an argument, and sched_process_exit's group_dead is read from the record (CO-RE):
        // every other program is a raw_tp one, whose detach waits for no grace period (see kvm_exits.bpf.c).
        Assert.Equal(new[] { "kvm_exit_latency_ts", "process_exit_ts", ThreadCounts.IteratorProgram }.OrderBy(p => p), records);
        Assert.Contains("kvm_entry_ts", runnable);
        Assert.Contains("kvm_vcpu_wakeup", runnable);
    }

    private static bool CanTestRun(BpfObject obj, string program)
    {
        try
        {
            obj.TestRunRawTracepoint(program, [0, 0, 0, 0, 0, 0]);
            return true;
        }
        catch (BpfException)
        {
            return false;
        }
    }
}
