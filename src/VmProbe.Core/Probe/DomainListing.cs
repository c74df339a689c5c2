using VmProbe.Libvirt;
using VmProbe.Procfs;

namespace VmProbe.Probe;

/// <summary>
/// One-shot domain listing for the cmdlets (Get-VmDomain): libvirt's domains completed with the QEMU process's vCPU
/// threads and cgroup directory, or a /proc scan for QEMU processes when the URI is <c>process</c> or libvirt cannot
/// be used for a <c>qemu://</c> URI. (The runner's per-cycle discovery does the same composition; the two can merge.)
/// </summary>
public static class DomainListing
{
    /// <summary>The URI that asks for a /proc scan instead of libvirt.</summary>
    public const string ProcessUri = "process";

    public static IReadOnlyList<VmDomain> List(string uri, bool includeInactive, IProbeLog log, TimeSpan? callTimeout = null, string root = "/")
    {
        ArgumentException.ThrowIfNullOrEmpty(uri);
        if (string.Equals(uri, ProcessUri, StringComparison.OrdinalIgnoreCase))
        {
            Log(log, LogLevel.Info, "Domains from a /proc scan for QEMU processes (-Uri process); only running domains are found.");
            return QemuProcessScanner.ScanDomains(root);
        }

        IReadOnlyList<VmDomain> listed;
        try
        {
            using var session = new LibvirtSession(uri, callTimeout ?? LibvirtSession.DefaultCallTimeout, log);
            listed = new LibvirtDomainLister(session, Path.Combine(root, LibvirtDomainLister.DefaultPidDirectory.TrimStart('/'))).ListDomains(includeInactive);
        }
        catch (LibvirtException ex) when (CanScanInstead(uri, ex))
        {
            Log(log, LogLevel.Warning, $"libvirt at {uri} cannot be used ({ex.Message}); domains from a /proc scan for QEMU processes instead.");
            return QemuProcessScanner.ScanDomains(root);
        }

        Log(log, LogLevel.Info, $"Domains from libvirt at {uri}: {listed.Count}.");
        return Complete(listed, root);
    }

    /// <summary>Adds the vCPU threads and cgroup directory of each running domain's QEMU process (as procfs shows them now).</summary>
    public static IReadOnlyList<VmDomain> Complete(IReadOnlyList<VmDomain> domains, string root = "/")
    {
        if (!domains.Any(d => d.Pid > 0))
        {
            return domains;
        }

        using var inspector = new QemuProcessInspector(root);
        var completed = new List<VmDomain>(domains.Count);
        foreach (var domain in domains)
        {
            var process = domain.Pid > 0 ? inspector.Inspect(domain.Pid) : null;
            completed.Add(process is null ? domain : new VmDomain
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
            });
        }

        return completed;
    }

    // Without libvirt.so, or with no daemon answering a qemu:// URI, the QEMU processes are still there to find.
    private static bool CanScanInstead(string uri, LibvirtException error) =>
        error is LibvirtUnavailableException
        || (uri.StartsWith("qemu", StringComparison.OrdinalIgnoreCase) && error.Kind is ProbeErrorKind.ConnectionError);

    private static void Log(IProbeLog log, LogLevel level, string message)
    {
        if (log.IsEnabled(level))
        {
            log.Write(level, message);
        }
    }
}
