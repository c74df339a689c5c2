using System.Globalization;
using System.Net;

namespace VmProbe.GuestApi;

/// <summary>
/// Where the endpoint listens, as the <c>guestapi</c> key gives it: <c>192.168.122.1:9999</c>, <c>[fd00::1]:9999</c>
/// (TCP; an explicit address, never a wildcard, so it is not exposed on every interface by accident) or
/// <c>vsock:9999</c> (AF_VSOCK on any CID, where the host has vhost-vsock).
/// </summary>
public sealed record GuestApiAddress(GuestTransport Transport, IPEndPoint? Tcp, uint VsockPort)
{
    public override string ToString() => Transport == GuestTransport.Tcp ? Tcp!.ToString() : "vsock:" + VsockPort.ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses one address; null and the reason in <paramref name="error"/> when it is not one.</summary>
    public static GuestApiAddress? TryParse(string text, out string? error)
    {
        error = null;
        text = text.Trim();
        if (text.StartsWith("vsock:", StringComparison.OrdinalIgnoreCase))
        {
            if (uint.TryParse(text.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < uint.MaxValue)
            {
                return new GuestApiAddress(GuestTransport.Vsock, null, port);
            }

            error = $"'{text}': a vsock address is vsock:PORT with PORT a number from 1 to 4294967294";
            return null;
        }

        if (!IPEndPoint.TryParse(text, out var endpoint) || endpoint.Port == 0 || !text.Contains(':', StringComparison.Ordinal)
            || (endpoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !text.StartsWith('[')))
        {
            error = $"'{text}' is not ADDRESS:PORT (192.168.122.1:9999, [fd00::1]:9999) or vsock:PORT";
            return null;
        }

        if (endpoint.Address.Equals(IPAddress.Any) || endpoint.Address.Equals(IPAddress.IPv6Any))
        {
            error = $"'{text}' listens on every interface; give the address of the guests' network (libvirt's default is 192.168.122.1)";
            return null;
        }

        return new GuestApiAddress(GuestTransport.Tcp, endpoint, 0);
    }
}
