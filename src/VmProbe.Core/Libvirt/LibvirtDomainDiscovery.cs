using VmProbe.Probe;
using VmProbe.Procfs;

namespace VmProbe.Libvirt;

/// <summary>
/// Domain discovery through libvirt (source name <c>libvirt_discovery</c>): the active domains of the session's URI with
/// libvirt's name, uuid, id, state and memory, plus what procfs knows of their QEMU process (vCPU threads, cgroup
/// directory) found through the pid libvirt wrote in <c>/run/libvirt/qemu/NAME.pid</c>.
/// </summary>
/// <remarks>
/// A domain whose pid cannot be read (remote URI, no access to the run directory) or whose process is gone is still
/// listed, with pid 0 and no vCPU threads: the libvirt source reports it, the procfs and perf sources skip it.
/// A pid file left by a domain that died while libvirtd was down could name an unrelated process by now: when that
/// process's command line carries a uuid other than the domain's, the pid is not used.
/// </remarks>
public sealed class LibvirtDomainDiscovery : IDomainDiscovery, IDisposable
{
    public const string SourceName = "libvirt_discovery";

    private readonly LibvirtSession _session;
    private readonly bool _ownsSession;
    private readonly LibvirtDomainLister _lister;
    private readonly QemuProcessInspector _inspector;

    public LibvirtDomainDiscovery(
        LibvirtSession session,
        bool ownsSession = false,
        string pidDirectory = LibvirtDomainLister.DefaultPidDirectory,
        string root = "/",
        string? cgroupRoot = null)
    {
        _session = session ?? throw new ArgumentNullException(nameof(session));
        _ownsSession = ownsSession;
        _lister = new LibvirtDomainLister(session, pidDirectory);
        _inspector = new QemuProcessInspector(root, cgroupRoot);
    }

    public string Name => SourceName;

    public LibvirtSession Session => _session;

    /// <summary>Throws the session's <see cref="VmProbeException"/> when libvirt cannot be reached or fails.</summary>
    public IReadOnlyList<VmDomain> Discover(IProbeLog log, CancellationToken cancellationToken)
    {
        var listed = _lister.ListDomains(includeInactive: false, cancellationToken);
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
        if (domain.Pid <= 0)
        {
            Debug(log, $"domain '{domain.Name}': no QEMU pid readable; listed without procfs data");
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
            Vcpus = process.Vcpus,
            CgroupPath = process.CgroupDirectory,
            MemoryBytes = domain.MemoryBytes,
            Uri = domain.Uri,
        };
    }

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
