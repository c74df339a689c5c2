namespace VmProbe;

/// <summary>
/// Finds the domains of one cycle (libvirt, or a /proc scan for QEMU processes). An exception that escapes
/// <see cref="Discover"/> is counted in <c>probe_errors_total{source=Name}</c> and the cycle continues with zero domains.
/// </summary>
public interface IDomainDiscovery
{
    /// <summary>The <c>source</c> label its failures are counted under (for example <c>libvirt</c> or <c>process</c>).</summary>
    string Name { get; }

    IReadOnlyList<VmDomain> Discover(IProbeLog log, CancellationToken cancellationToken);
}
