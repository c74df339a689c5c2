using System.Net;
using VmProbe.Libvirt;

namespace VmProbe.GuestApi;

/// <summary>
/// The peer check on libvirt's data: a TCP peer belongs to a domain when one of the domain's interfaces, whose MAC its
/// own XML declares, has the peer's address (from a DHCP lease or the host's neighbour table); a vsock peer when the
/// domain's XML gives its CID. Exactly one running domain must match, and no other domain may list the address at all.
/// </summary>
internal static class GuestAddressMap
{
    public static GuestIdentity Resolve(GuestPeer peer, IReadOnlyList<DomainNetwork> domains)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(domains);
        return peer.Transport == GuestTransport.Vsock ? ResolveCid(peer, domains) : ResolveAddress(peer, domains);
    }

    private static GuestIdentity ResolveCid(GuestPeer peer, IReadOnlyList<DomainNetwork> domains)
    {
        var matches = domains.Where(d => d.VsockCid == peer.Cid).ToList();
        return matches.Count switch
        {
            1 => new GuestIdentity(matches[0].Name, matches[0].Uuid),
            0 => throw new GuestApiRefusedException(GuestRefusalReason.UnknownPeer, $"{peer} is not the vsock CID of any running domain"),
            _ => throw Ambiguous(peer, matches),
        };
    }

    private static GuestIdentity ResolveAddress(GuestPeer peer, IReadOnlyList<DomainNetwork> domains)
    {
        var listing = new List<DomainNetwork>();
        var verified = new List<DomainNetwork>();
        foreach (var domain in domains)
        {
            var listed = false;
            var macChecked = false;
            foreach (var iface in domain.Interfaces)
            {
                if (!iface.Addresses.Any(a => SameAddress(a, peer.Address!)))
                {
                    continue;
                }

                listed = true;
                macChecked |= domain.XmlMacs.Contains(iface.Mac, StringComparer.Ordinal);
            }

            if (listed)
            {
                listing.Add(domain);
            }

            if (macChecked)
            {
                verified.Add(domain);
            }
        }

        if (listing.Count > 1)
        {
            throw Ambiguous(peer, listing);
        }

        if (verified.Count == 1)
        {
            return new GuestIdentity(verified[0].Name, verified[0].Uuid);
        }

        throw new GuestApiRefusedException(GuestRefusalReason.UnknownPeer, listing.Count == 1
            ? $"{peer} is listed for domain '{listing[0].Name}' under a MAC its XML does not declare; refused"
            : $"{peer} is not the address of any running domain (libvirt's DHCP leases and ARP data, checked against each domain's MACs)");
    }

    private static bool SameAddress(string text, IPAddress peer) =>
        IPAddress.TryParse(text, out var address) && (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).Equals(peer);

    private static GuestApiRefusedException Ambiguous(GuestPeer peer, List<DomainNetwork> matches) =>
        new(GuestRefusalReason.AmbiguousPeer,
            $"{peer} belongs to {matches.Count} running domains ({string.Join(", ", matches.Take(4).Select(d => $"'{d.Name}'"))}); refused, since it cannot tell which one asks");
}

/// <summary>The production resolver: libvirt's view, read on its own connection and worker thread (never the collection loop's).</summary>
internal sealed class LibvirtPeerResolver : IGuestPeerResolver, IDisposable
{
    private readonly LibvirtSession session;

    public LibvirtPeerResolver(string uri, IProbeLog log, TimeSpan? callTimeout = null)
    {
        session = new LibvirtSession(uri, callTimeout ?? TimeSpan.FromSeconds(10), log);
    }

    public GuestIdentity Resolve(GuestPeer peer, CancellationToken cancellationToken)
    {
        IReadOnlyList<DomainNetwork> domains;
        try
        {
            domains = session.Run("list guest networks", c => c.ListGuestNetworks(), cancellationToken);
        }
        catch (VmProbeException ex) when (ex is not GuestApiRefusedException)
        {
            throw new GuestApiRefusedException(GuestRefusalReason.Unavailable, $"the host cannot check who {peer} is right now: {ex.Message}", ex);
        }

        return GuestAddressMap.Resolve(peer, domains);
    }

    public void Dispose() => session.Dispose();
}
