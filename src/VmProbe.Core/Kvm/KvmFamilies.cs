namespace VmProbe.Kvm;

/// <summary>
/// The families of KVM's own statistics. The statistics themselves are not declared here: their names and set come
/// from the kernel (the stats fd's descriptors, debugfs file names, libvirt's vm.* fields) and are written under
/// <see cref="DomainPrefix"/>, <see cref="VcpuPrefix"/> and <see cref="HostPrefix"/> by <see cref="KvmStatsEmitter"/>.
/// </summary>
public static class KvmFamilies
{
    /// <summary>Per-domain statistics: <c>domain_kvm_NAME{domain,uuid}</c> (summed over vCPUs, peaks as maxima).</summary>
    public const string DomainPrefix = "domain_kvm_";

    /// <summary>Per-vCPU statistics (<c>kvmstats: vcpu</c>): <c>domain_vcpu_kvm_NAME{domain,uuid,vcpu}</c>.</summary>
    public const string VcpuPrefix = "domain_vcpu_kvm_";

    /// <summary>Host totals from debugfs' top-level files: <c>host_kvm_NAME</c>.</summary>
    public const string HostPrefix = "host_kvm_";

    public static readonly MetricDesc StatsInfo = new("domain_kvm_stats_info", MetricType.Gauge, "",
        "Which source served the domain's KVM statistics this cycle (binary: KVM_GET_STATS_FD, libvirt: VIR_DOMAIN_STATS_VM, debugfs), value 1.",
        "domain", "uuid", "source");

    public static readonly MetricDesc StatsSkipped = new("domain_kvm_stats_skipped", MetricType.Gauge, "",
        "Statistics of the domain's KVM stats fds this probe left out (unknown type, unit or base of a newer kernel, duplicate names).",
        "domain", "uuid");
}
