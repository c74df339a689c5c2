namespace VmProbe.Libvirt;

/// <summary>
/// One domain as virConnectListAllDomains + virDomainGetInfo/GetState report it.
/// <see cref="Id"/> is -1 for an inactive domain; memory in KiB as libvirt reports it; CPU time in ns.
/// </summary>
internal sealed record LibvirtDomainInfo(
    string Name,
    Guid Uuid,
    int Id,
    VmDomainState State,
    int StateReason,
    int VcpuCount,
    ulong MaxMemoryKiB,
    ulong MemoryKiB,
    ulong CpuTimeNs);
