namespace VmProbe.Kvm.Exits;

/// <summary>
/// The families of the kvm exits source (<c>kvmexits</c>). Names never collide with KVM's own statistics, which
/// <c>KvmStatsEmitter</c> writes as <c>domain_kvm_</c>/<c>host_kvm_</c> + the kernel's statistic name
/// (<c>domain_kvm_exits_total</c> is KVM's exit counter without a reason, <c>domain_kvm_irq_injections_total</c> its
/// injection counter): <c>KvmExitFamiliesTests</c> checks them against the statistics of a current kernel.
/// No <c>isa</c> label: a host is VMX or SVM, and the reason names of the two tables differ (VMX upper case, SVM lower).
/// </summary>
public static class KvmExitFamilies
{
    public static readonly MetricDesc ExitsByReason = new("domain_kvm_exits_by_reason_total", MetricType.Counter, "",
        "VM exits of the domain by exit reason (kvm:kvm_exit; reason as the kernel prints it, unknown numbers as 0x..).",
        "domain", "uuid", "reason");

    public static readonly MetricDesc VcpuExitsByReason = new("domain_vcpu_kvm_exits_by_reason_total", MetricType.Counter, "",
        "VM exits of one vCPU by exit reason (kvmexitpervcpu: true).", "domain", "uuid", "vcpu", "reason");

    public static readonly MetricDesc ExitHandling = new("domain_kvm_exit_handling_seconds", MetricType.Histogram, "seconds",
        "Time the host took to handle the domain's VM exits, all reasons (kvm:kvm_exit to the next kvm:kvm_entry on the thread; kvmexits: latency).",
        "domain", "uuid");

    public static readonly MetricDesc ExitHandlingByReason = new("domain_kvm_exit_reason_handling_seconds", MetricType.Histogram, "seconds",
        "Exit handling time of the domain per reason, for the reasons of kvmexitreasons or else the kvmexittopn most frequent ones.",
        "domain", "uuid", "reason");

    public static readonly MetricDesc UserspaceExits = new("domain_kvm_userspace_exits_total", MetricType.Counter, "",
        "Exits of the domain's vCPUs to QEMU by KVM_EXIT_* reason (kvm:kvm_userspace_exit).", "domain", "uuid", "reason");

    public static readonly MetricDesc PageFaults = new("domain_kvm_mmu_page_faults_total", MetricType.Counter, "",
        "MMU page faults KVM handled for the domain (kvm:kvm_page_fault).", "domain", "uuid");

    public static readonly MetricDesc MmioPageFaults = new("domain_kvm_mmio_page_faults_total", MetricType.Counter, "",
        "Of those, faults on emulated MMIO (when the tracer tells them apart).", "domain", "uuid");

    public static readonly MetricDesc HaltPollWindowChanges = new("domain_kvm_halt_poll_window_changes_total", MetricType.Counter, "",
        "Halt-polling window changes of the domain's vCPUs (kvm:kvm_halt_poll_ns), direction grow or shrink.", "domain", "uuid", "direction");

    public static readonly MetricDesc Wakeups = new("domain_kvm_vcpu_wakeups_total", MetricType.Counter, "",
        "vCPU wakeups after a halt (kvm:kvm_vcpu_wakeup), result valid or invalid.", "domain", "uuid", "result");

    public static readonly MetricDesc HaltTime = new("domain_kvm_vcpu_halt_seconds", MetricType.Histogram, "seconds",
        "Time the domain's vCPUs spent halted or polling before a wakeup (kvm:kvm_vcpu_wakeup).", "domain", "uuid");

    public static readonly MetricDesc IrqInjections = new("domain_kvm_irq_injections_by_kind_total", MetricType.Counter, "",
        "Interrupts injected into the domain by kind: virq (kvm_inj_virq), msi, pic, ioapic (kvm_*_set_irq).", "domain", "uuid", "kind");

    public static readonly MetricDesc HostExitsByReason = new("host_kvm_exits_by_reason_total", MetricType.Counter, "",
        "VM exits of every process traced on the host, by exit reason.", "reason");

    public static readonly MetricDesc HostExitHandling = new("host_kvm_exit_handling_seconds", MetricType.Histogram, "seconds",
        "Exit handling time of every process traced on the host, all reasons (kvmexits: latency).");

    public static readonly MetricDesc Mode = new("probe_kvm_exits_mode_info", MetricType.Gauge, "",
        "Which way VM exits are counted (mode: bpf-latency, bpf-counts, perf-filter, off) for the requested kvmexits, value 1.",
        "mode", "requested");
}
