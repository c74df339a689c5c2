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

    /// <summary>What the libvirt metric source asks for every cycle.</summary>
    Default = State | CpuTotal | Balloon | Vcpu | Interface | Block,
}
