namespace VmProbe.Config;

// Declared by the perf source (below Config) so that Perf/ needs nothing from Config/; the public name stays
// VmProbe.Config.PerfAttribution, as scripts and the cmdlets' parameters spell it.
/// <summary>Which kernel object a VM's perf events are attached to.</summary>
public enum PerfAttribution
{
    /// <summary>One group per QEMU thread (pid=TID, cpu=-1); per-vCPU series possible.</summary>
    Thread,

    /// <summary>PERF_FLAG_PID_CGROUP on the VM's cgroup directory, one group per CPU.</summary>
    Cgroup,
}
