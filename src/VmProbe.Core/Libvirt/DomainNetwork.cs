using System.Globalization;
using System.Xml;

namespace VmProbe.Libvirt;

/// <summary>Where libvirt found an interface address.</summary>
internal enum InterfaceAddressSource
{
    Lease,
    Arp,

    /// <summary>The host's neighbour table read by VmProbe itself, where libvirt's ARP source failed (see <see cref="DomainNetwork.ArpError"/>).</summary>
    Neighbour,
}

/// <summary>One interface as virDomainInterfaceAddresses reports it: its MAC (lower case) and addresses.</summary>
internal sealed record DomainInterfaceAddresses(string Mac, IReadOnlyList<string> Addresses, InterfaceAddressSource Source);

/// <summary>
/// A running domain's network identity for the guest endpoint: the MACs and vsock CID its live XML gives, and the
/// addresses libvirt maps to its interfaces (DHCP leases and the host's neighbour table). <see cref="ArpError"/> is
/// libvirt's error when its ARP source failed for the domain (libvirt 9.0 rejects the neighbour dump of Linux 6.x kernels,
/// which end it with an NLMSG_DONE in the same datagram: "wrong nlmsg len"), else null.
/// </summary>
internal sealed record DomainNetwork(
    string Name, Guid Uuid, IReadOnlyList<string> XmlMacs, uint? VsockCid, IReadOnlyList<DomainInterfaceAddresses> Interfaces, string? ArpError = null,
    IReadOnlyList<DomainNic>? Nics = null);

/// <summary>
/// One <c>devices/interface</c> of the live XML: its type, MAC and the host interfaces its frames appear on (its
/// <c>target/@dev</c> tap and its <c>source/@bridge</c>, which live XML also gives for <c>type='network'</c>).
/// </summary>
internal sealed record DomainNic(string Type, string? Mac, IReadOnlyList<string> HostDevices)
{
    /// <summary>Types whose frames reach the host on those devices; a <c>user</c> (slirp/passt) or other NIC has none to trust.</summary>
    public bool OnHostDevices => Type is "network" or "bridge" or "ethernet";
}

/// <summary>The parts of a domain's live XML the guest endpoint uses: <c>devices/interface/mac/@address</c> and <c>devices/vsock/cid/@address</c>.</summary>
internal static class DomainNetXml
{
    /// <summary>Live domain XML is tens of KiB; a document far larger is refused rather than read (the status file's bound).</summary>
    public const int MaxChars = DomainStatusXml.MaxBytes;

    /// <summary>MACs (lower case, only well-formed ones) and the vsock CID (null when none or not a number); throws <see cref="VmProbeException"/> for a document that is not domain XML.</summary>
    public static (IReadOnlyList<string> Macs, uint? Cid) Parse(string xml, string domainName)
    {
        var (macs, cid, _) = ParseWithNics(xml, domainName);
        return (macs, cid);
    }

    /// <summary>As <see cref="Parse"/>, with each interface's type and host devices (the neighbour table's check).</summary>
    public static (IReadOnlyList<string> Macs, uint? Cid, IReadOnlyList<DomainNic> Nics) ParseWithNics(string xml, string domainName)
    {
        var macs = new List<string>();
        var nics = new List<DomainNic>();
        (string Type, string? Mac, List<string> Devices)? nic = null;
        uint? cid = null;
        try
        {
            using var reader = XmlReader.Create(new StringReader(xml), DomainStatusXml.Settings);
            if (reader.MoveToContent() != XmlNodeType.Element || reader.LocalName != "domain")
            {
                throw Bad(domainName, $"root element is <{reader.LocalName}>, not <domain>");
            }

            var path = new List<string> { "domain" };
            while (reader.Read())
            {
                if (reader.NodeType == XmlNodeType.EndElement)
                {
                    if (reader.LocalName == "interface" && path.Count == 3 && nic is { } done)
                    {
                        nics.Add(new DomainNic(done.Type, done.Mac, done.Devices));
                        nic = null;
                    }

                    path.RemoveAt(path.Count - 1);
                    continue;
                }

                if (reader.NodeType != XmlNodeType.Element)
                {
                    continue;
                }

                var parent = path.Count >= 2 ? path[^2] + "/" + path[^1] : string.Empty;
                if (reader.LocalName == "interface" && path.Count == 2 && path[1] == "devices" && !reader.IsEmptyElement)
                {
                    nic = (reader.GetAttribute("type") ?? string.Empty, null, new List<string>());
                }
                else if (parent == "devices/interface" && nic is { } open)
                {
                    var device = reader.LocalName switch
                    {
                        "target" => reader.GetAttribute("dev"),
                        "source" => reader.GetAttribute("bridge"),
                        _ => null,
                    };
                    if (device is { Length: > 0 and <= 15 } && open.Devices.Count < 8)
                    {
                        open.Devices.Add(device);
                    }
                }

                if (reader.LocalName == "mac" && parent == "devices/interface" && NormalizeMac(reader.GetAttribute("address")) is { } mac)
                {
                    if (nic is { } owner)
                    {
                        nic = owner with { Mac = mac };
                    }

                    if (!macs.Contains(mac))
                    {
                        macs.Add(mac);
                    }
                }
                else if (reader.LocalName == "cid" && parent == "devices/vsock"
                    && uint.TryParse(reader.GetAttribute("address"), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                {
                    cid = value;
                }

                if (!reader.IsEmptyElement)
                {
                    path.Add(reader.LocalName);
                }
            }
        }
        catch (XmlException ex)
        {
            throw Bad(domainName, ex.Message);
        }

        return (macs, cid, nics);
    }

    /// <summary><c>52:54:00:AB:cd:01</c> as <c>52:54:00:ab:cd:01</c>; null unless six hex pairs separated by ':'.</summary>
    public static string? NormalizeMac(string? text)
    {
        if (text is null || text.Length != 17)
        {
            return null;
        }

        for (var i = 0; i < 17; i++)
        {
            var ok = i % 3 == 2 ? text[i] == ':' : char.IsAsciiHexDigit(text[i]);
            if (!ok)
            {
                return null;
            }
        }

        return text.ToLowerInvariant();
    }

    private static VmProbeException Bad(string domainName, string why) =>
        new($"the live XML of domain '{domainName}' could not be read: {why}", "virDomainGetXMLDesc,invalid_xml", ProbeErrorKind.InvalidData);
}
