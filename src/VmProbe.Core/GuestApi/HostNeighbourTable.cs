using System.Globalization;
using System.Net;
using System.Net.Sockets;
using VmProbe.Libvirt;

namespace VmProbe.GuestApi;

/// <summary>One complete IPv4 neighbour entry of the host: an address and the MAC (lower case) the host resolved it to.</summary>
internal sealed record NeighbourEntry(IPAddress Address, string Mac, string Device);

/// <summary>
/// The host's IPv4 neighbour table as /proc/net/arp gives it: what libvirt's ARP source reads over netlink, read here
/// where libvirt's own reading fails (see <see cref="DomainNetwork.ArpError"/>). The file is the kernel's, but it is
/// parsed defensively all the same: bounded, and a line that is not an entry is skipped.
/// </summary>
internal static class HostNeighbourTable
{
    public const string DefaultPath = "/proc/net/arp";

    /// <summary>The kernel's table holds at most gc_thresh3 (1024 by default) entries; far more is not a neighbour table.</summary>
    public const int MaxEntries = 65_536;

    /// <summary>ATF_COM: the entry is resolved (a MAC the host has seen answer), as libvirt's REACHABLE or STALE.</summary>
    private const int Complete = 0x2;

    public static IReadOnlyList<NeighbourEntry> Read(string path = DefaultPath)
    {
        using var reader = new StreamReader(path);
        return Parse(reader);
    }

    public static IReadOnlyList<NeighbourEntry> Parse(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var entries = new List<NeighbourEntry>();
        reader.ReadLine(); // "IP address       HW type     Flags       HW address            Mask     Device"
        for (var lines = 0; lines < MaxEntries && reader.ReadLine() is { } line; lines++)
        {
            if (ParseLine(line) is { } entry)
            {
                entries.Add(entry);
            }
        }

        return entries;
    }

    private static NeighbourEntry? ParseLine(string line)
    {
        if (line.Length > 512)
        {
            return null;
        }

        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 6
            || fields[0].Count(c => c == '.') != 3 || !IPAddress.TryParse(fields[0], out var address) || address.AddressFamily != AddressFamily.InterNetwork
            || !fields[2].StartsWith("0x", StringComparison.Ordinal)
            || !int.TryParse(fields[2].AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var flags)
            || (flags & Complete) == 0
            || DomainNetXml.NormalizeMac(fields[3]) is not { } mac
            || mac == "00:00:00:00:00:00")
        {
            return null;
        }

        return new NeighbourEntry(address, mac, fields[5]);
    }
}
