namespace VmProbe.Bpf;

/// <summary>VM exits of one vCPU thread by reason (kvm:kvm_exit). Isa 1 = VMX, 2 = SVM; Reason is the raw exit_reason. Tid 0: exited threads.</summary>
public sealed record KvmExitCount(int Tgid, int Tid, uint Isa, uint Reason, ulong Count);

/// <summary>kvm_exit -> next kvm_entry on the same thread, per (process, reason), in ns.</summary>
public sealed record KvmExitHandlingTime(int Tgid, uint Reason, BpfHistogram Histogram);

/// <summary>kvm:kvm_userspace_exit per process: Reason is KVM_EXIT_*; Errno is set (and Reason 0) when KVM_RUN failed (4 = EINTR, "restart").</summary>
public sealed record KvmUserspaceExit(int Tgid, uint Reason, int Errno, ulong Count);

/// <summary>kvm:kvm_page_fault per process, and MMIO faults: the MMU's slow path (kvmmmu:handle_mmio_page_fault) and VMX's fast MMIO (kvm:kvm_fast_mmio).</summary>
public sealed record KvmPageFaults(int Tgid, ulong Faults, ulong MmioFaults, ulong FastMmio);

/// <summary>kvm:kvm_halt_poll_ns per process: halt-poll window grows and shrinks.</summary>
public sealed record KvmHaltPollChanges(int Tgid, ulong Grow, ulong Shrink);

/// <summary>kvm:kvm_vcpu_wakeup per (process, waited or polled): valid/invalid counts and its ns field as a histogram.</summary>
public sealed record KvmWakeups(int Tgid, bool Waited, ulong Valid, ulong Invalid, BpfHistogram? Histogram);

/// <summary>Interrupt injection tracepoints.</summary>
public enum KvmIrqKind
{
    /// <summary>kvm:kvm_inj_virq: an interrupt injected into a vCPU.</summary>
    Virq = 0,

    /// <summary>kvm:kvm_msi_set_irq.</summary>
    Msi = 1,

    /// <summary>kvm:kvm_pic_set_irq.</summary>
    Pic = 2,

    /// <summary>kvm:kvm_ioapic_set_irq.</summary>
    Ioapic = 3,
}

/// <summary>IRQ injections per (injecting process, kind): the vCPU's QEMU for Virq; for the others whoever injected (QEMU, vhost, a kworker for an irqfd).</summary>
public sealed record KvmIrqInjection(int Tgid, KvmIrqKind Kind, ulong Count);

/// <summary>One read of the KVM maps.</summary>
public sealed record KvmExitSnapshot(
    IReadOnlyList<KvmExitCount> Exits,
    IReadOnlyList<KvmExitHandlingTime> HandlingTimes,
    IReadOnlyList<KvmUserspaceExit> UserspaceExits,
    IReadOnlyList<KvmPageFaults> PageFaults,
    IReadOnlyList<KvmHaltPollChanges> HaltPoll,
    IReadOnlyList<KvmWakeups> Wakeups,
    IReadOnlyList<KvmIrqInjection> IrqInjections);
