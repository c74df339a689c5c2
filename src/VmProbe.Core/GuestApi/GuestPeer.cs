using System.Net;

namespace VmProbe.GuestApi;

/// <summary>How a guest reached the endpoint.</summary>
public enum GuestTransport
{
    Tcp,
    Vsock,
}

/// <summary>Who connected, as the host's kernel reports it (the socket's peer address or vsock CID), never as the guest claims.</summary>
public sealed record GuestPeer(GuestTransport Transport, IPAddress? Address, uint Cid)
{
    public static GuestPeer Tcp(IPAddress address) =>
        new(GuestTransport.Tcp, (address ?? throw new ArgumentNullException(nameof(address))).IsIPv4MappedToIPv6 ? address.MapToIPv4() : address, 0);

    public static GuestPeer Vsock(uint cid) => new(GuestTransport.Vsock, null, cid);

    public override string ToString() => Transport == GuestTransport.Tcp ? Address!.ToString() : "vsock cid " + Cid.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>The one running domain a peer belongs to.</summary>
public sealed record GuestIdentity(string Name, Guid Uuid);

/// <summary>
/// Maps a peer to exactly one running domain or refuses (<see cref="GuestApiRefusedException"/> with
/// <see cref="GuestRefusalReason.UnknownPeer"/> or <see cref="GuestRefusalReason.AmbiguousPeer"/>). Called from the
/// endpoint's own threads, never from the collection loop; may block on libvirt (bounded by its call timeout).
/// </summary>
public interface IGuestPeerResolver
{
    GuestIdentity Resolve(GuestPeer peer, CancellationToken cancellationToken);

    /// <summary>What the endpoint calls: a resolver that waits on libvirt overrides it so connections await, not block.</summary>
    ValueTask<GuestIdentity> ResolveAsync(GuestPeer peer, CancellationToken cancellationToken) => new(Resolve(peer, cancellationToken));
}
