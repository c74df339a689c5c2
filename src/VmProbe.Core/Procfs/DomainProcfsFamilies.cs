namespace VmProbe.Procfs;

/// <summary>The families of <see cref="DomainProcfsSource"/> (source <c>procfs</c>), each declared once.</summary>
internal static class DomainProcfsFamilies
{
    private static readonly string[] Domain = { "domain", "uuid" };
    private static readonly string[] Vcpu = { "domain", "uuid", "vcpu" };

    public static readonly MetricDesc SchedRunSeconds = new("domain_sched_run_seconds_total", MetricType.Counter, "seconds",
        "Time the threads of the domain's QEMU process spent running on a host CPU, summed over all threads including exited ones (/proc/PID/task/*/schedstat).",
        Domain);

    public static readonly MetricDesc SchedWaitSeconds = new("domain_sched_wait_seconds_total", MetricType.Counter, "seconds",
        "Time the threads of the domain's QEMU process spent runnable but waiting for a host CPU (steal as the host sees it), summed over all threads (/proc/PID/task/*/schedstat).",
        Domain);

    public static readonly MetricDesc SchedTimeslices = new("domain_sched_timeslices_total", MetricType.Counter, "",
        "Timeslices run by the threads of the domain's QEMU process on host CPUs (/proc/PID/task/*/schedstat).",
        Domain);

    public static readonly MetricDesc MinorPageFaults = new("domain_minor_page_faults_total", MetricType.Counter, "",
        "Host minor page faults of the domain's QEMU process, summed over its threads (/proc/PID/task/*/stat).",
        Domain);

    public static readonly MetricDesc MajorPageFaults = new("domain_major_page_faults_total", MetricType.Counter, "",
        "Host major page faults (disk reads) of the domain's QEMU process, summed over its threads (/proc/PID/task/*/stat).",
        Domain);

    public static readonly MetricDesc CpuGuestSeconds = new("domain_cpu_guest_seconds_total", MetricType.Counter, "seconds",
        "Time the domain's QEMU threads spent running guest code under KVM, summed over threads (guest_time in /proc/PID/task/*/stat; 0 with TCG).",
        Domain);

    public static readonly MetricDesc Threads = new("domain_threads", MetricType.Gauge, "",
        "Threads of the domain's QEMU process read this cycle (vCPUs, emulator, I/O and worker threads).",
        Domain);

    public static readonly MetricDesc VcpuSchedRunSeconds = new("domain_vcpu_sched_run_seconds_total", MetricType.Counter, "seconds",
        "Time the vCPU's host thread spent running on a host CPU (/proc/PID/task/TID/schedstat).",
        Vcpu);

    public static readonly MetricDesc VcpuSchedWaitSeconds = new("domain_vcpu_sched_wait_seconds_total", MetricType.Counter, "seconds",
        "Time the vCPU's host thread spent runnable but waiting for a host CPU: the vCPU's steal time (/proc/PID/task/TID/schedstat).",
        Vcpu);

    public static readonly MetricDesc VcpuSchedTimeslices = new("domain_vcpu_sched_timeslices_total", MetricType.Counter, "",
        "Timeslices the vCPU's host thread ran on host CPUs (/proc/PID/task/TID/schedstat).",
        Vcpu);
}
