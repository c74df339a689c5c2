namespace VmProbe.Config;

// Declared by the KVM statistics source (below Config) so that Kvm/ needs nothing from Config/; the public name stays
// VmProbe.Config.KvmStatsMode, as scripts and the cmdlets' parameters spell it.
/// <summary><c>kvmstats</c>: KVM's own statistics per domain (summed over vCPUs), per vCPU, or none.</summary>
public enum KvmStatsMode
{
    Vm,
    Vcpu,
    Off,
}
