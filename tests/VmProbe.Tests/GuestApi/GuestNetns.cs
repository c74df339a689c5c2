using System.Net;
using System.Security.Cryptography;
using VmProbe.Tests.Infrastructure;

namespace VmProbe.Tests.GuestApi;

/// <summary>
/// A stand-in guest on real networking: a network namespace (<c>vmprobe-test-XXXXXXXX</c>) holding one end of a veth
/// pair with the given MAC and a peer address, the other end in the host with the host address of a /30 (the default route). A TCP client
/// run in it (<see cref="Run"/>) reaches the host from that MAC and address, so the host's neighbour table maps the
/// address to the MAC, as it does for a VM on a bridge. Dispose deletes the namespace and both veth ends.
/// </summary>
internal sealed class GuestNetns : IDisposable
{
    private readonly string ip;
    private readonly string hostLink;
    private int disposed;

    private GuestNetns(string ip, string id, IPAddress host, IPAddress peer, string mac)
    {
        this.ip = ip;
        Name = LibvirtdHost.NamePrefix + id;
        hostLink = $"vmpg{id}h"; // 13 bytes: link names are at most 15
        HostAddress = host;
        PeerAddress = peer;
        Mac = mac;
    }

    public string Name { get; }

    public IPAddress HostAddress { get; }

    public IPAddress PeerAddress { get; }

    public string Mac { get; }

    /// <summary>With <c>bridged</c>: the host bridge (<c>vmpbXXXXXXXX</c>) holding the host's veth end and the host address; a domain NIC on it is this interface.</summary>
    public string? Bridge { get; private set; }

    /// <summary>Null when network namespaces can be made here (root and iproute2's <c>ip netns</c>), else why not.</summary>
    public static string? WhyUnavailable()
    {
        if (!Requirements.IsRoot)
        {
            return "network namespaces and veth pairs need root";
        }

        if (Requirements.FindCommand("ip") is not { } ip)
        {
            return "iproute2's 'ip' is not installed";
        }

        return Requirements.Run(ip, "netns list", timeoutMs: 10_000).ExitCode == 0 ? null : "'ip netns list' fails here";
    }

    /// <summary>A random locally administered MAC in QEMU's 52:54:00 range, lower case.</summary>
    public static string RandomMac()
    {
        var bytes = RandomNumberGenerator.GetBytes(3);
        return $"52:54:00:{bytes[0]:x2}:{bytes[1]:x2}:{bytes[2]:x2}";
    }

    /// <summary>The two addresses of a random /30 in 10.240.0.0/12 (host .1, peer .2), so parallel runs do not clash.</summary>
    public static (IPAddress Host, IPAddress Peer) RandomSubnet()
    {
        var subnet = RandomNumberGenerator.GetInt32(0, 1 << 18) << 2;
        IPAddress At(int last) => new(new[] { (byte)10, (byte)(0xF0 | (subnet >> 16)), (byte)(subnet >> 8), (byte)(subnet | last) });
        return (At(1), At(2));
    }

    /// <summary>Makes the namespace and veth pair on a random /30 of 10.240.0.0/12; throws (after cleaning up) when a step fails.</summary>
    public static GuestNetns Create(string mac, bool bridged = false)
    {
        var ip = Requirements.FindCommand("ip") ?? throw new InvalidOperationException("iproute2's 'ip' is not installed");
        var id = Guid.NewGuid().ToString("N")[..8];
        var (host, peer) = RandomSubnet();
        var netns = new GuestNetns(ip, id, host, peer, mac);
        try
        {
            var guestLink = $"vmpg{id}n";
            netns.Ip($"netns add {netns.Name}");
            netns.Ip($"link add {netns.hostLink} type veth peer name {guestLink}");
            netns.Ip($"link set {guestLink} netns {netns.Name}");
            var hostSide = netns.hostLink;
            if (bridged)
            {
                // The host address on a bridge, the veth a port of it: the neighbour entry is on the bridge, as for a VM's tap.
                netns.Bridge = $"vmpb{id}";
                netns.Ip($"link add {netns.Bridge} type bridge");
                netns.Ip($"link set {netns.hostLink} master {netns.Bridge}");
                netns.Ip($"link set {netns.Bridge} up");
                hostSide = netns.Bridge;
            }

            netns.Ip($"addr add {host}/30 dev {hostSide}");
            netns.Ip($"link set {netns.hostLink} up");
            netns.Ip($"-n {netns.Name} link set {guestLink} address {mac}");
            netns.Ip($"-n {netns.Name} addr add {peer}/30 dev {guestLink}");
            netns.Ip($"-n {netns.Name} link set {guestLink} up");
            netns.Ip($"-n {netns.Name} link set lo up");
            netns.Ip($"-n {netns.Name} route add default via {host}"); // any host address is reachable, as from a VM
            return netns;
        }
        catch
        {
            netns.Dispose();
            throw;
        }
    }

    /// <summary>Runs a program inside the namespace (<c>ip netns exec</c>); its stdin is closed at once.</summary>
    public (int ExitCode, string Stdout, string Stderr) Run(string program, string arguments, int timeoutMs = 60_000) =>
        Requirements.Run(ip, $"netns exec {Name} {program} {arguments}", stdin: string.Empty, timeoutMs: timeoutMs);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        // Deleting the namespace destroys its veth end, and with it the pair; the host end is deleted too in case the
        // pair was made but never moved.
        Requirements.Run(ip, $"netns delete {Name}", timeoutMs: 15_000);
        Requirements.Run(ip, $"link delete {hostLink}", timeoutMs: 15_000);
        if (Bridge is not null)
        {
            Requirements.Run(ip, $"link delete {Bridge}", timeoutMs: 15_000);
        }
    }

    private void Ip(string arguments)
    {
        var (exit, _, stderr) = Requirements.Run(ip, arguments, timeoutMs: 15_000);
        if (exit != 0)
        {
            throw new InvalidOperationException($"ip {arguments} failed ({exit}): {stderr.Trim()}");
        }
    }
}
