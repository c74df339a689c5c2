namespace VmProbe.Procfs;

/// <summary>
/// A running QEMU process as procfs shows it: its threads (vCPU threads identified by name), its command line
/// identity, and its cgroups (the process's own and the domain level, as /proc/PID/cgroup paths and as directories).
/// </summary>
internal sealed record QemuProcess
{
    public required int Pid { get; init; }

    /// <summary>/proc/PID/exe target, or argv[0] when the link is not readable.</summary>
    public string? Executable { get; init; }

    public IReadOnlyList<string> Arguments { get; init; } = Array.Empty<string>();

    public QemuCommandLine CommandLine { get; init; } = new(null, null);

    public IReadOnlyList<QemuThread> Threads { get; init; } = Array.Empty<QemuThread>();

    /// <summary>vCPU threads in index order.</summary>
    public IReadOnlyList<VmVcpu> Vcpus { get; init; } = Array.Empty<VmVcpu>();

    /// <summary>The process's v2 path from /proc/PID/cgroup (<c>0::</c>), or null.</summary>
    public string? UnifiedCgroupPath { get; init; }

    /// <summary>The process's v1 cpu (or cpu,cpuacct) path from /proc/PID/cgroup, or null.</summary>
    public string? CpuCgroupPath { get; init; }

    /// <summary>The domain-level v2 cgroup directory on disk (emulator/vcpuN/libvirt children stripped), or null.</summary>
    public string? UnifiedCgroupDirectory { get; init; }

    /// <summary>The domain-level v1 cpu cgroup directory on disk, or null.</summary>
    public string? CpuCgroupDirectory { get; init; }

    /// <summary>The domain-level v1 cpuacct cgroup directory on disk, or null.</summary>
    public string? CpuacctCgroupDirectory { get; init; }

    /// <summary>The domain-level v1 perf_event cgroup directory on disk, or null (libvirt does not place domains there).</summary>
    public string? PerfEventCgroupDirectory { get; init; }

    /// <summary>The domain cgroup directory for <see cref="VmDomain.CgroupPath"/>: v2 when it exists, else v1 cpu.</summary>
    public string? CgroupDirectory => UnifiedCgroupDirectory ?? CpuCgroupDirectory;

    private readonly string? _perfCgroupDirectory;
    private readonly bool _perfCgroupChosen;

    /// <summary>
    /// The directory for <see cref="VmDomain.PerfCgroupPath"/>. The inspector sets it from the hierarchy perf is bound
    /// to on this host (<see cref="QemuProcessInspector"/>); unset, it is v2 when it exists, else v1 perf_event.
    /// </summary>
    public string? PerfCgroupDirectory
    {
        get => _perfCgroupChosen ? _perfCgroupDirectory : PerfCgroupDirectoryOf(UnifiedCgroupDirectory, PerfEventCgroupDirectory);
        init
        {
            _perfCgroupDirectory = value;
            _perfCgroupChosen = true;
        }
    }

    /// <summary>perf's cgroup mode takes a v2 directory or a v1 perf_event one, never a v1 cpu directory.</summary>
    public static string? PerfCgroupDirectoryOf(string? unifiedDirectory, string? perfEventDirectory) => unifiedDirectory ?? perfEventDirectory;

    /// <summary>
    /// The name libvirt encoded in the domain cgroup (<c>qemu-3-web-01</c> gives <c>web-01</c>), when the process
    /// lives in a libvirt machine cgroup; lossy (libvirt filters and truncates), see <see cref="QemuCgroupPath.TryParseMachineName"/>.
    /// </summary>
    public string? CgroupMachineName { get; init; }

    /// <summary>
    /// A running <see cref="VmDomain"/> for this process. Name and uuid default to the command line's (then the
    /// cgroup machine name, then <c>pid-PID</c>); the libvirt path passes its own.
    /// </summary>
    public VmDomain ToVmDomain(string? name = null, Guid? uuid = null, string uri = "process", int domainId = -1, ulong memoryBytes = 0) => new()
    {
        Name = name ?? CommandLine.Name ?? CgroupMachineName ?? "pid-" + Pid.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Uuid = uuid ?? CommandLine.Uuid ?? Guid.Empty,
        Id = domainId,
        State = VmDomainState.Running,
        Pid = Pid,
        Vcpus = Vcpus,
        CgroupPath = CgroupDirectory,
        PerfCgroupPath = PerfCgroupDirectory,
        MemoryBytes = memoryBytes,
        Uri = uri,
    };
}
