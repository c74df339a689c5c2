namespace VmProbe.Libvirt;

/// <summary>virDomainStatsTypes: the groups virConnectGetAllDomainStats returns.</summary>
[Flags]
internal enum DomainStatsGroups : uint
{
    None = 0,
    State = 1,
    CpuTotal = 2,
    Balloon = 4,
    Vcpu = 8,
    Interface = 16,
    Block = 32,
    Perf = 64,
    IoThread = 128,
    Memory = 256,
    DirtyRate = 512,

    /// <summary>VIR_DOMAIN_STATS_VM (libvirt 8.9+): the hypervisor's own statistics, <c>vm.NAME.{cur,sum,max}</c> (KVM's via QEMU query-stats).</summary>
    Vm = 1024,

    /// <summary>What the libvirt metric source asks for every cycle.</summary>
    Default = State | CpuTotal | Balloon | Vcpu | Interface | Block,
}
