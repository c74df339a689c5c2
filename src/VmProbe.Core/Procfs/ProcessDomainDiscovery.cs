using VmProbe.Probe;

namespace VmProbe.Procfs;

/// <summary>
/// Domain discovery without libvirt (source name <c>process</c>): every QEMU process under /proc, named and identified
/// from its command line (<c>-name guest=...</c>, <c>-uuid</c>), with Uri <c>process</c>.
/// </summary>
public sealed class ProcessDomainDiscovery : IDomainDiscovery, IDisposable
{
    public const string SourceName = "process";

    private readonly QemuProcessInspector _inspector;

    public ProcessDomainDiscovery(string root = "/", string? cgroupRoot = null) => _inspector = new QemuProcessInspector(root, cgroupRoot);

    public string Name => SourceName;

    public IReadOnlyList<VmDomain> Discover(IProbeLog log, CancellationToken cancellationToken)
    {
        var processes = QemuProcessScanner.Scan(_inspector);
        var domains = new VmDomain[processes.Count];
        for (var i = 0; i < domains.Length; i++)
        {
            domains[i] = processes[i].ToVmDomain();
        }

        return domains;
    }

    public void Dispose() => _inspector.Dispose();
}
