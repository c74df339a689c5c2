namespace VmProbe.Procfs;

/// <summary>
/// Builds a <see cref="QemuProcess"/> for a pid from procfs (threads, command line, cgroups) and resolves its
/// cgroups under the cgroup root. Used by the process scanner and by the libvirt path (which knows the pid from
/// /run/libvirt/qemu/NAME.pid). Not thread-safe.
/// </summary>
internal sealed class QemuProcessInspector : IDisposable
{
    private readonly ProcFs _proc;
    private readonly CgroupFs _cgroups;
    private readonly List<int> _tids = new(32);

    public QemuProcessInspector(string root = "/", string? cgroupRoot = null)
    {
        _proc = new ProcFs(root);
        _cgroups = new CgroupFs(cgroupRoot ?? Path.Combine(root, "sys", "fs", "cgroup"));
    }

    public ProcFs Proc => _proc;

    public CgroupFs Cgroups => _cgroups;

    /// <summary>Where <see cref="Inspect"/> leaves the CPU each thread last ran on (the discovery hands it this cycle's).</summary>
    public ThreadCpuHints? CpuHints { get; set; }

    /// <summary>The process, or null when it has exited (or is a zombie without threads to read).</summary>
    public QemuProcess? Inspect(int pid)
    {
        var argv = _proc.ReadCmdline(pid);
        if (argv is null)
        {
            return null;
        }

        if (!_proc.TryListThreads(pid, _tids))
        {
            return null;
        }

        var threads = new List<QemuThread>(_tids.Count);
        foreach (var tid in _tids)
        {
            var comm = ReadName(pid, tid, out var lastCpu);
            if (comm is not null)
            {
                threads.Add(QemuThread.Classify(pid, tid, comm));
                CpuHints?.Record(tid, lastCpu);
            }
        }

        threads.Sort((a, b) => a.ThreadId.CompareTo(b.ThreadId));
        var vcpus = threads.Where(t => t.Kind == QemuThreadKind.Vcpu)
            .OrderBy(t => t.VcpuIndex)
            .Select(t => new VmVcpu(t.VcpuIndex, t.ThreadId))
            .ToArray();

        var memberships = _proc.ReadCgroups(pid);
        var unified = memberships?.UnifiedPath;
        var cpu = memberships?.V1Path("cpu");
        var cpuacct = memberships?.V1Path("cpuacct");
        var perfEvent = memberships?.V1Path("perf_event");
        var unifiedDir = ExistingDirectory(unified is null ? null : _cgroups.ResolveUnified(QemuCgroupPath.DomainLevel(unified)));
        var cpuDir = ExistingDirectory(cpu is null ? null : _cgroups.ResolveV1("cpu", QemuCgroupPath.DomainLevel(cpu)));
        var cpuacctDir = ExistingDirectory(cpuacct is null ? null : _cgroups.ResolveV1("cpuacct", QemuCgroupPath.DomainLevel(cpuacct)));
        var perfEventDir = ExistingDirectory(perfEvent is null ? null : _cgroups.ResolveV1("perf_event", QemuCgroupPath.DomainLevel(perfEvent)));

        string? machineName = null;
        var domainPath = unified is not null && unified != "/" ? QemuCgroupPath.DomainLevel(unified) : cpu is not null ? QemuCgroupPath.DomainLevel(cpu) : null;
        if (domainPath is not null && QemuCgroupPath.TryParseMachineName(domainPath, out _, out var parsedName))
        {
            machineName = parsedName;
        }

        // perf's cgroup mode works only in the hierarchy perf_event is bound to: the v1 perf_event one when it is mounted
        // (a hybrid host), else v2. And only in the domain's own cgroup (a machine scope / qemu-ID-NAME component): a
        // QEMU outside any VM cgroup sits in a root or parent cgroup, which would count the whole host.
        var perfPath = _cgroups.V1Mount("perf_event") is not null ? perfEvent : unified;
        var perfDir = _cgroups.V1Mount("perf_event") is not null ? perfEventDir : unifiedDir;
        if (perfPath is null || !QemuCgroupPath.TryParseMachineName(QemuCgroupPath.DomainLevel(perfPath), out _, out _))
        {
            perfDir = null;
        }

        var exe = _proc.ReadExecutable(pid) ?? (argv.Length > 0 ? argv[0] : null);
        return new QemuProcess
        {
            Pid = pid,
            Executable = exe,
            Arguments = argv,
            CommandLine = QemuCommandLine.Parse(argv),
            Threads = threads,
            Vcpus = vcpus,
            UnifiedCgroupPath = unified,
            CpuCgroupPath = cpu,
            UnifiedCgroupDirectory = unifiedDir,
            CpuCgroupDirectory = cpuDir,
            CpuacctCgroupDirectory = cpuacctDir,
            PerfEventCgroupDirectory = perfEventDir,
            PerfCgroupDirectory = perfDir,
            CgroupMachineName = machineName,
        };
    }

    // With hints wanted, the name from the thread's stat, which also says where it last ran (the perf source opens its
    // counters there); the comm file where there is no stat or it does not parse, without a hint then.
    private string? ReadName(int pid, int tid, out int lastCpu)
    {
        lastCpu = -1;
        if (CpuHints is null)
        {
            return _proc.ReadTaskComm(pid, tid);
        }

        try
        {
            return _proc.ReadTaskName(pid, tid, out lastCpu) ?? _proc.ReadTaskComm(pid, tid);
        }
        catch (ProcfsException)
        {
            lastCpu = -1;
            return _proc.ReadTaskComm(pid, tid);
        }
    }

    /// <summary>A running domain for a pid libvirt told us about, with libvirt's name and uuid; null when the process is gone.</summary>
    public VmDomain? CreateDomain(int pid, string name, Guid uuid, string uri, int domainId = -1, ulong memoryBytes = 0) =>
        Inspect(pid)?.ToVmDomain(name, uuid, uri, domainId, memoryBytes);

    public void Dispose()
    {
        _proc.Dispose();
        _cgroups.Dispose();
    }

    private static string? ExistingDirectory(string? path) => path is not null && Directory.Exists(path) ? path : null;
}
