using VmProbe.Libvirt;
using VmProbe.Procfs;

namespace VmProbe.Composition;

/// <summary>
/// One-shot domain listing for the cmdlets (Get-VmDomain) over the runner's discoveries: <see cref="LibvirtDomainDiscovery"/>
/// for a libvirt URI, <see cref="ProcessDomainDiscovery"/> for <c>process</c> or when libvirt cannot be used for a
/// <c>qemu://</c> URI (the fallback <see cref="AutoDomainDiscovery"/> takes, logged at Warning).
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
            return Scan(log, root);
        }

        // The cmdlets' -Uri gets the config's rule: a local, read-only transport only.
        LibvirtUrlPolicy.Ensure(uri, allowRemote: false);
        IReadOnlyList<VmDomain> listed;
        try
        {
            using var session = new LibvirtSession(uri, callTimeout ?? LibvirtSession.DefaultCallTimeout, log);
            using var discovery = new LibvirtDomainDiscovery(
                session,
                pidDirectory: Path.Combine(root, LibvirtDomainLister.DefaultPidDirectory.TrimStart('/')),
                root: root,
                includeInactive: includeInactive);
            listed = discovery.Discover(log, CancellationToken.None);
        }
        catch (LibvirtException ex) when (CanScanInstead(uri, ex))
        {
            Log(log, LogLevel.Warning, $"libvirt at {uri} cannot be used ({ex.Message}); domains from a /proc scan for QEMU processes instead.");
            return Scan(log, root);
        }

        Log(log, LogLevel.Info, $"Domains from libvirt at {uri}: {listed.Count}.");
        return listed;
    }

    private static IReadOnlyList<VmDomain> Scan(IProbeLog log, string root)
    {
        using var discovery = new ProcessDomainDiscovery(root);
        return discovery.Discover(log, CancellationToken.None);
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
