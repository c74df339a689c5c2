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

    /// <summary>
    /// Where libvirt's ARP source failed for a domain, what it would have given: the host's neighbour entries whose MAC the
    /// domain's XML declares, seen on that NIC's own tap or bridge. Domains whose ARP source answered are returned unchanged.
    /// </summary>
    public static IReadOnlyList<DomainNetwork> WithNeighbours(IReadOnlyList<DomainNetwork> domains, IReadOnlyList<NeighbourEntry> neighbours)
    {
        ArgumentNullException.ThrowIfNull(domains);
        ArgumentNullException.ThrowIfNull(neighbours);
        return domains.Select(d => d.ArpError is null ? d : d with
        {
            Interfaces = d.Interfaces.Concat(neighbours
                .Where(n => SeenOnItsNic(d, n))
                .Select(n => new DomainInterfaceAddresses(n.Mac, new[] { n.Address.ToString() }, InterfaceAddressSource.Neighbour))).ToList(),
        }).ToList();
    }

    /// <summary>
    /// The entry's MAC is a NIC of the domain and was seen on that NIC's tap or bridge: the same MAC behind another
    /// host interface is someone else claiming it. A user-mode or unknown NIC has no host interface to trust.
    /// </summary>
    private static bool SeenOnItsNic(DomainNetwork domain, NeighbourEntry entry) =>
        domain.XmlMacs.Contains(entry.Mac, StringComparer.Ordinal)
        && (domain.Nics ?? Array.Empty<DomainNic>()).Any(nic =>
            nic.OnHostDevices && nic.Mac == entry.Mac && nic.HostDevices.Contains(entry.Device, StringComparer.Ordinal));

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
    private readonly IProbeLog log;
    private readonly string neighbourTable;
    private readonly GuestNetworkSnapshot snapshot;
    private int arpFallbackLogged;
    private int neighbourFailureLogged;

    public LibvirtPeerResolver(string uri, IProbeLog log, TimeSpan? callTimeout = null, string neighbourTable = HostNeighbourTable.DefaultPath)
    {
        this.log = log ?? throw new ArgumentNullException(nameof(log));
        this.neighbourTable = neighbourTable;
        session = new LibvirtSession(uri, callTimeout ?? TimeSpan.FromSeconds(10), log);
        snapshot = new GuestNetworkSnapshot(Load);
    }

    public GuestIdentity Resolve(GuestPeer peer, CancellationToken cancellationToken) =>
        ResolveAsync(peer, cancellationToken).AsTask().GetAwaiter().GetResult();

    public ValueTask<GuestIdentity> ResolveAsync(GuestPeer peer, CancellationToken cancellationToken) => snapshot.ResolveAsync(peer, cancellationToken);

    /// <summary>One listing for every peer asking meanwhile (the snapshot's job); bounded by the session's call timeout, not one caller's token.</summary>
    private IReadOnlyList<DomainNetwork> Load()
    {
        IReadOnlyList<DomainNetwork> domains;
        try
        {
            domains = session.Run("list guest networks", c => c.ListGuestNetworks(), CancellationToken.None);
        }
        catch (VmProbeException ex) when (ex is not GuestApiRefusedException)
        {
            throw new GuestApiRefusedException(GuestRefusalReason.Unavailable, $"the host cannot check who is asking right now: {ex.Message}", ex);
        }

        return WithNeighbourFallback(domains);
    }

    private IReadOnlyList<DomainNetwork> WithNeighbourFallback(IReadOnlyList<DomainNetwork> domains)
    {
        if (domains.FirstOrDefault(d => d.ArpError is not null) is not { } failed)
        {
            return domains;
        }

        IReadOnlyList<NeighbourEntry> neighbours;
        try
        {
            neighbours = HostNeighbourTable.Read(neighbourTable);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (Interlocked.Exchange(ref neighbourFailureLogged, 1) == 0)
            {
                log.Write(LogLevel.Warning, $"guestapi: libvirt's ARP source failed ({failed.ArpError}) and {neighbourTable} cannot be read: {ex.Message}; peers are checked on DHCP leases only");
            }

            return domains;
        }

        if (Interlocked.Exchange(ref arpFallbackLogged, 1) == 0)
        {
            log.Write(LogLevel.Info, $"guestapi: libvirt's ARP source failed ({failed.ArpError}); the host's neighbour table ({neighbourTable}) is read instead");
        }

        return GuestAddressMap.WithNeighbours(domains, neighbours);
    }

    public void Dispose() => session.Dispose();
}
