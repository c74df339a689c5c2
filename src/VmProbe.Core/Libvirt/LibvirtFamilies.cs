namespace VmProbe.Libvirt;

/// <summary>The families of <see cref="LibvirtDomainSource"/> (source <c>libvirt</c>, bulk domain stats), each declared once.</summary>
internal static class LibvirtFamilies
{
    private static readonly string[] Domain = { "domain", "uuid" };
    private static readonly string[] DomainState = { "domain", "uuid", "state" };
    private static readonly string[] State = { "state" };
    private static readonly string[] Vcpu = { "domain", "uuid", "vcpu" };
    private static readonly string[] Device = { "domain", "uuid", "device" };
    private static readonly string[] Interface = { "domain", "uuid", "interface" };

    public static readonly MetricDesc Info = new("domain_info", MetricType.Gauge, "",
        "Domain known to libvirt, value 1; state is libvirt's state word.", DomainState);

    public static readonly MetricDesc Domains = new("domains", MetricType.Gauge, "",
        "Number of libvirt domains in each state.", State);

    public static readonly MetricDesc Cpu = new("domain_cpu_seconds_total", MetricType.Counter, "seconds",
        "CPU time used by the domain's QEMU process (libvirt cpu.time).", Domain);

    public static readonly MetricDesc CpuUser = new("domain_cpu_user_seconds_total", MetricType.Counter, "seconds",
        "User CPU time of the domain's QEMU process (libvirt cpu.user).", Domain);

    public static readonly MetricDesc HaltPollSuccess = new("domain_cpu_haltpoll_success_seconds_total", MetricType.Counter, "seconds",
        "Time the domain's vCPUs spent in halt polling that found work (libvirt cpu.haltpoll.success.time; KVM hosts only).", Domain);

    public static readonly MetricDesc HaltPollFail = new("domain_cpu_haltpoll_fail_seconds_total", MetricType.Counter, "seconds",
        "Time the domain's vCPUs spent in halt polling that ended in a sleep anyway (libvirt cpu.haltpoll.fail.time; KVM hosts only).", Domain);

    public static readonly MetricDesc CpuSystem = new("domain_cpu_system_seconds_total", MetricType.Counter, "seconds",
        "System CPU time of the domain's QEMU process (libvirt cpu.system).", Domain);

    public static readonly MetricDesc Vcpus = new("domain_vcpus", MetricType.Gauge, "",
        "Current number of vCPUs (libvirt vcpu.current).", Domain);

    public static readonly MetricDesc VcpusMax = new("domain_vcpus_maximum", MetricType.Gauge, "",
        "Maximum number of vCPUs (libvirt vcpu.maximum).", Domain);

    public static readonly MetricDesc VcpuTime = new("domain_vcpu_seconds_total", MetricType.Counter, "seconds",
        "Time the vCPU thread ran on a host CPU (libvirt vcpu.N.time).", Vcpu);

    public static readonly MetricDesc VcpuWait = new("domain_vcpu_wait_seconds_total", MetricType.Counter, "seconds",
        "Time the vCPU was runnable but waited for a host CPU (libvirt vcpu.N.wait).", Vcpu);

    public static readonly MetricDesc VcpuDelay = new("domain_vcpu_delay_seconds_total", MetricType.Counter, "seconds",
        "Time the vCPU thread spent waiting in the host run queue (libvirt vcpu.N.delay).", Vcpu);

    public static readonly MetricDesc BalloonCurrent = new("domain_memory_balloon_current_bytes", MetricType.Gauge, "bytes",
        "Memory currently assigned to the domain (libvirt balloon.current).", Domain);

    public static readonly MetricDesc BalloonMaximum = new("domain_memory_balloon_maximum_bytes", MetricType.Gauge, "bytes",
        "Maximum memory of the domain (libvirt balloon.maximum).", Domain);

    public static readonly MetricDesc Rss = new("domain_memory_rss_bytes", MetricType.Gauge, "bytes",
        "Resident set size of the domain's QEMU process (libvirt balloon.rss).", Domain);

    public static readonly MetricDesc Unused = new("domain_memory_unused_bytes", MetricType.Gauge, "bytes",
        "Memory the guest leaves unused (guest-reported, libvirt balloon.unused).", Domain);

    public static readonly MetricDesc Available = new("domain_memory_available_bytes", MetricType.Gauge, "bytes",
        "Memory the guest sees as total (guest-reported, libvirt balloon.available).", Domain);

    public static readonly MetricDesc Usable = new("domain_memory_usable_bytes", MetricType.Gauge, "bytes",
        "Memory the guest could use without swapping (guest-reported, libvirt balloon.usable).", Domain);

    public static readonly MetricDesc SwapIn = new("domain_memory_swap_in_bytes_total", MetricType.Counter, "bytes",
        "Memory swapped in by the guest (guest-reported, libvirt balloon.swap_in).", Domain);

    public static readonly MetricDesc SwapOut = new("domain_memory_swap_out_bytes_total", MetricType.Counter, "bytes",
        "Memory swapped out by the guest (guest-reported, libvirt balloon.swap_out).", Domain);

    public static readonly MetricDesc MajorFaults = new("domain_memory_major_faults_total", MetricType.Counter, "",
        "Major page faults in the guest (guest-reported, libvirt balloon.major_fault).", Domain);

    public static readonly MetricDesc MinorFaults = new("domain_memory_minor_faults_total", MetricType.Counter, "",
        "Minor page faults in the guest (guest-reported, libvirt balloon.minor_fault).", Domain);

    public static readonly MetricDesc BlockReadBytes = new("domain_block_read_bytes_total", MetricType.Counter, "bytes",
        "Bytes read from the disk (libvirt block.N.rd.bytes).", Device);

    public static readonly MetricDesc BlockWriteBytes = new("domain_block_write_bytes_total", MetricType.Counter, "bytes",
        "Bytes written to the disk (libvirt block.N.wr.bytes).", Device);

    public static readonly MetricDesc BlockReads = new("domain_block_read_requests_total", MetricType.Counter, "",
        "Read requests on the disk (libvirt block.N.rd.reqs).", Device);

    public static readonly MetricDesc BlockWrites = new("domain_block_write_requests_total", MetricType.Counter, "",
        "Write requests on the disk (libvirt block.N.wr.reqs).", Device);

    public static readonly MetricDesc RxBytes = new("domain_network_receive_bytes_total", MetricType.Counter, "bytes",
        "Bytes received by the interface (libvirt net.N.rx.bytes).", Interface);

    public static readonly MetricDesc TxBytes = new("domain_network_transmit_bytes_total", MetricType.Counter, "bytes",
        "Bytes transmitted by the interface (libvirt net.N.tx.bytes).", Interface);

    public static readonly MetricDesc RxPackets = new("domain_network_receive_packets_total", MetricType.Counter, "",
        "Packets received (libvirt net.N.rx.pkts).", Interface);

    public static readonly MetricDesc TxPackets = new("domain_network_transmit_packets_total", MetricType.Counter, "",
        "Packets transmitted (libvirt net.N.tx.pkts).", Interface);

    public static readonly MetricDesc RxErrors = new("domain_network_receive_errors_total", MetricType.Counter, "",
        "Receive errors (libvirt net.N.rx.errs).", Interface);

    public static readonly MetricDesc TxErrors = new("domain_network_transmit_errors_total", MetricType.Counter, "",
        "Transmit errors (libvirt net.N.tx.errs).", Interface);

    public static readonly MetricDesc RxDrops = new("domain_network_receive_drops_total", MetricType.Counter, "",
        "Received packets dropped (libvirt net.N.rx.drop).", Interface);

    public static readonly MetricDesc TxDrops = new("domain_network_transmit_drops_total", MetricType.Counter, "",
        "Transmitted packets dropped (libvirt net.N.tx.drop).", Interface);
}
