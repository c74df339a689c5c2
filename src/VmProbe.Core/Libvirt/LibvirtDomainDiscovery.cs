using VmProbe.Procfs;

namespace VmProbe.Libvirt;

/// <summary>
/// Domain discovery through libvirt (source name <c>libvirt_discovery</c>): the active domains of the session's URI with
/// libvirt's name, uuid, id, state and memory, plus what procfs knows of their QEMU process (vCPU threads, cgroup
/// directory) found through the pid libvirt wrote in <c>/run/libvirt/qemu/NAME.pid</c>. The vCPU-to-thread mapping is
/// libvirt's status file <c>/run/libvirt/qemu/NAME.xml</c> when readable (root), cross-checked with the thread names.
/// </summary>
/// <remarks>
/// A domain whose pid cannot be read (remote URI, no access to the run directory) or whose process is gone is still
/// listed, with pid 0 and no vCPU threads: the libvirt source reports it, the procfs and perf sources skip it.
/// A pid file left by a domain that died while libvirtd was down could name an unrelated process by now: when that
/// process's command line carries a uuid other than the domain's, the pid is not used.
/// </remarks>
internal sealed class LibvirtDomainDiscovery : IDomainDiscovery, IDisposable
{
    public const string SourceName = "libvirt_discovery";

    private readonly LibvirtSession _session;
    private readonly bool _ownsSession;
    private readonly LibvirtDomainLister _lister;
    private readonly QemuProcessInspector _inspector;
    private readonly bool _includeInactive;
    private readonly string _statusDirectory;
    private readonly HashSet<Guid> _vcpuNoticeLogged = new();
    private readonly HashSet<Guid> _pidNoticeLogged = new();
    private IReadOnlyList<VmDomain>? _lastGoodListing;

    /// <param name="includeInactive">Also list defined but inactive domains (Get-VmDomain -All); they have no pid.</param>
    public LibvirtDomainDiscovery(
        LibvirtSession session,
        bool ownsSession = false,
        string pidDirectory = LibvirtDomainLister.DefaultPidDirectory,
        string root = "/",
        string? cgroupRoot = null,
        bool includeInactive = false)
    {
        _includeInactive = includeInactive;
        _statusDirectory = pidDirectory;
        _session = session ?? throw new ArgumentNullException(nameof(session));
        _ownsSession = ownsSession;
        _lister = new LibvirtDomainLister(session, pidDirectory);
        _inspector = new QemuProcessInspector(root, cgroupRoot);
    }

    public string Name => SourceName;

    public LibvirtSession Session => _session;

    /// <summary>
    /// Throws the session's <see cref="VmProbeException"/> when libvirt cannot be reached or fails. When the listing
    /// passes its deadline (a hung libvirtd) after a good listing, that last good listing is used instead (its processes
    /// checked again), so the procfs and perf sources keep counting the domains known to be running.
    /// </summary>
    public IReadOnlyList<VmDomain> Discover(IProbeLog log, CancellationToken cancellationToken)
    {
        IReadOnlyList<VmDomain> listed;
        try
        {
            listed = _lister.ListDomains(_includeInactive, cancellationToken);
            _lastGoodListing = listed;
        }
        catch (LibvirtTimeoutException) when (_lastGoodListing is not null)
        {
            Debug(log, $"libvirt listing timed out; using the last good listing ({_lastGoodListing.Count} domains)");
            listed = _lastGoodListing;
        }

        var domains = new VmDomain[listed.Count];
        for (var i = 0; i < domains.Length; i++)
        {
            domains[i] = WithProcess(listed[i], log);
        }

        return domains;
    }

    public void Dispose()
    {
        _inspector.Dispose();
        if (_ownsSession)
        {
            _session.Dispose();
        }
    }

    private VmDomain WithProcess(VmDomain domain, IProbeLog log)
    {
        if (domain.Pid <= 0 && domain.Id >= 0)
        {
            // No pid file under either spelling: libvirt's status file (root only) has the pid too.
            try
            {
                if (DomainStatusXml.TryRead(DomainStatusXml.PathFor(_statusDirectory, domain.Name)) is { Pid: > 0 } status)
                {
                    domain = WithPid(domain, status.Pid);
                }
            }
            catch (VmProbeException)
            {
            }
        }

        if (domain.Pid <= 0)
        {
            // A running domain on this host whose pid cannot be found loses its procfs and perf series: say it, once.
            if (domain.Id >= 0 && _session.Uri.StartsWith("qemu:///", StringComparison.OrdinalIgnoreCase) && Directory.Exists(_statusDirectory))
            {
                LogOnce(_pidNoticeLogged, domain, log, LogLevel.Warning,
                    $"domain '{domain.Name}': its QEMU pid is in neither {_statusDirectory}/NAME.pid nor NAME.xml; listed without procfs and perf series");
            }
            else
            {
                Debug(log, $"domain '{domain.Name}': no QEMU pid readable; listed without procfs data");
            }

            return domain;
        }

        var process = _inspector.Inspect(domain.Pid);
        if (process is null)
        {
            Debug(log, $"domain '{domain.Name}': QEMU process {domain.Pid} is gone; listed without procfs data");
            return WithoutPid(domain);
        }

        if (process.CommandLine.Uuid is { } uuid && uuid != domain.Uuid)
        {
            Debug(log, $"domain '{domain.Name}': process {domain.Pid} belongs to uuid {uuid}, not {domain.Uuid} (stale pid file); listed without procfs data");
            return WithoutPid(domain);
        }

        return new VmDomain
        {
            Name = domain.Name,
            Uuid = domain.Uuid,
            Id = domain.Id,
            State = domain.State,
            Pid = domain.Pid,
            Vcpus = VcpusOf(domain, process.Vcpus, log),
            CgroupPath = process.CgroupDirectory,
            PerfCgroupPath = process.PerfCgroupDirectory,
            MemoryBytes = domain.MemoryBytes,
            Uri = domain.Uri,
        };
    }

    /// <summary>
    /// The vCPU threads: libvirt's status file (NAME.xml beside NAME.pid) when it is readable and belongs to this QEMU
    /// process, else the threads named <c>CPU N/KVM</c>. See <see cref="ChooseVcpus"/>.
    /// </summary>
    private IReadOnlyList<VmVcpu> VcpusOf(VmDomain domain, IReadOnlyList<VmVcpu> byThreadName, IProbeLog log)
    {
        var path = DomainStatusXml.PathFor(_statusDirectory, domain.Name);
        DomainStatusXml? status;
        try
        {
            status = DomainStatusXml.TryRead(path);
        }
        catch (VmProbeException ex)
        {
            LogOnce(domain, log, LogLevel.Warning, $"domain '{domain.Name}': {ex.Message} vCPU threads from thread names only");
            return byThreadName;
        }

        if (status is null || (status.Pid != 0 && status.Pid != domain.Pid))
        {
            return byThreadName;
        }

        var chosen = ChooseVcpus(byThreadName, status.Vcpus, out var disagreement);
        if (disagreement)
        {
            LogOnce(domain, log, LogLevel.Warning,
                $"domain '{domain.Name}': vCPU threads by name ({Describe(byThreadName)}) differ from libvirt's {path} ({Describe(status.Vcpus)}); using libvirt's");
        }
        else if (byThreadName.Count == 0 && chosen.Count > 0)
        {
            LogOnce(domain, log, LogLevel.Debug,
                $"domain '{domain.Name}': no thread named 'CPU N/KVM' (QEMU without debug-threads=on); vCPU threads from {path}");
        }

        return chosen;
    }

    /// <summary>
    /// libvirt's status list wins when it has any vCPU (libvirt asked QEMU which thread runs which vCPU); the thread
    /// names fill in when it has none. <paramref name="disagreement"/> is set when both exist and differ.
    /// </summary>
    internal static IReadOnlyList<VmVcpu> ChooseVcpus(IReadOnlyList<VmVcpu> byThreadName, IReadOnlyList<VmVcpu> byStatus, out bool disagreement)
    {
        disagreement = false;
        if (byStatus.Count == 0)
        {
            return byThreadName;
        }

        if (byThreadName.Count > 0)
        {
            disagreement = !byThreadName.SequenceEqual(byStatus);
        }

        return byStatus;
    }

    private static string Describe(IReadOnlyList<VmVcpu> vcpus) =>
        vcpus.Count == 0 ? "none" : string.Join(", ", vcpus.Select(v => $"{v.Index}:{v.ThreadId}"));

    private void LogOnce(VmDomain domain, IProbeLog log, LogLevel level, string message) => LogOnce(_vcpuNoticeLogged, domain, log, level, message);

    private static void LogOnce(HashSet<Guid> logged, VmDomain domain, IProbeLog log, LogLevel level, string message)
    {
        if (logged.Count >= 65536)
        {
            logged.Clear(); // weeks of domain churn: forget old domains rather than grow without bound
        }

        if (logged.Add(domain.Uuid) && log.IsEnabled(level))
        {
            log.Write(level, message);
        }
    }

    private static VmDomain WithPid(VmDomain domain, int pid) => new()
    {
        Name = domain.Name,
        Uuid = domain.Uuid,
        Id = domain.Id,
        State = domain.State,
        Pid = pid,
        MemoryBytes = domain.MemoryBytes,
        Uri = domain.Uri,
    };

    private static VmDomain WithoutPid(VmDomain domain) => new()
    {
        Name = domain.Name,
        Uuid = domain.Uuid,
        Id = domain.Id,
        State = domain.State,
        MemoryBytes = domain.MemoryBytes,
        Uri = domain.Uri,
    };

    private static void Debug(IProbeLog log, string message)
    {
        if (log.IsEnabled(LogLevel.Debug))
        {
            log.Write(LogLevel.Debug, message);
        }
    }
}
