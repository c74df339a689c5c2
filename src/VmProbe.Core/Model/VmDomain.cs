namespace VmProbe;

/// <summary>Domain state as libvirt numbers it (virDomainState); process discovery reports Running.</summary>
public enum VmDomainState
{
    NoState = 0,
    Running = 1,
    Blocked = 2,
    Paused = 3,
    Shutdown = 4,
    Shutoff = 5,
    Crashed = 6,
    PmSuspended = 7,
}

/// <summary>One virtual CPU of a domain and the host thread that runs it (0 when unknown).</summary>
public sealed record VmVcpu(int Index, int ThreadId);

/// <summary>
/// A KVM domain as VmProbe sees it: identity from libvirt (or from the QEMU command line when found by process scan),
/// and the host-side handles the procfs and perf sources need (QEMU pid, vCPU threads, cgroup directory).
/// Output of Get-VmDomain and the unit every per-domain source iterates over.
/// </summary>
public sealed class VmDomain
{
    public required string Name { get; init; }

    public Guid Uuid { get; init; }

    /// <summary>The <see cref="Uuid"/> as the <c>uuid</c> label writes it (empty when unknown), made once.</summary>
    internal string UuidLabel => _uuidLabel ??= Uuid == Guid.Empty ? string.Empty : Uuid.ToString("D");

    private string? _uuidLabel;

    /// <summary>libvirt's domain id; -1 when inactive or unknown.</summary>
    public int Id { get; init; } = -1;

    public VmDomainState State { get; init; }

    /// <summary>The QEMU process id; 0 when the domain does not run or the pid is unknown.</summary>
    public int Pid { get; init; }

    public IReadOnlyList<VmVcpu> Vcpus { get; init; } = Array.Empty<VmVcpu>();

    /// <summary>
    /// The domain's cgroup directory for CPU accounting under /sys/fs/cgroup (v2, or the v1 cpu controller's), or null.
    /// Not always a perf target: see <see cref="PerfCgroupPath"/>.
    /// </summary>
    public string? CgroupPath { get; init; }

    /// <summary>
    /// The domain's cgroup directory that perf_event_open accepts with PERF_FLAG_PID_CGROUP (attribution: cgroup):
    /// the v2 directory, else the v1 <c>perf_event</c> controller's; null when the process is in neither
    /// (a v1 cpu directory gives ENOENT).
    /// </summary>
    public string? PerfCgroupPath { get; init; }

    public ulong MemoryBytes { get; init; }

    /// <summary>The libvirt URI it came from, or <c>process</c> when found by scanning /proc.</summary>
    public string? Uri { get; init; }

    /// <summary>The same domain with other vCPU threads (the process discovery's re-check of thread names).</summary>
    internal VmDomain WithVcpus(IReadOnlyList<VmVcpu> vcpus) => new()
    {
        Name = Name,
        Uuid = Uuid,
        Id = Id,
        State = State,
        Pid = Pid,
        Vcpus = vcpus,
        CgroupPath = CgroupPath,
        PerfCgroupPath = PerfCgroupPath,
        MemoryBytes = MemoryBytes,
        Uri = Uri,
    };

    public override string ToString() => Name;
}
