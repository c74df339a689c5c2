using VmProbe.Composition;

namespace VmProbe.Commands.Engine;

/// <summary>libvirt listing completed from procfs, or a /proc scan (<see cref="DomainListing"/>).</summary>
internal sealed class CoreDomainProvider : IDomainProvider
{
    public IReadOnlyList<VmDomain> GetDomains(string uri, bool includeInactive, IProbeLog log) =>
        DomainListing.List(uri, includeInactive, log);
}
