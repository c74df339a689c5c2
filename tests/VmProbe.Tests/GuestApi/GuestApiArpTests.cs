using System.Text.RegularExpressions;
using VmProbe.Tests.Infrastructure;
using VmProbe.Tests.Perf;
using Xunit;
using Xunit.Abstractions;

namespace VmProbe.Tests.GuestApi;

/// <summary>
/// The peer check on real networking: the runner (guestapi on a veth's host address, libvirt discovery) and a real
/// QEMU/TCG domain whose NIC has a known MAC. A network namespace holding that MAC and a peer address stands for the
/// guest: the host's neighbour table maps the address to the MAC, libvirt's interface addresses (leases, then ARP;
/// where libvirt's ARP source fails, the neighbour table read by VmProbe) give it to that domain, and the request is
/// accepted and streams that domain's vCPU counts. A second namespace, with a MAC no domain has, is refused.
/// </summary>
[Collection(LibvirtdCollection.Name)]
public sealed class GuestApiArpTests(LibvirtdHost host, ITestOutputHelper output)
{
    [SkippableFact]
    public async Task APeerWhoseMacIsARunningDomainsIsThatDomainAndAnyOtherMacIsRefused()
    {
        Skip.IfNot(host.Available, host.SkipReason);
        var noNetns = GuestNetns.WhyUnavailable();
        Skip.If(noNetns is not null, noNetns);
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        Skip.If(Requirements.FindCommand("nc") is null && Requirements.FindCommand("busybox") is null,
            "neither nc nor busybox is installed (the guest client's curl fallback may hold its lines: it is not what a guest uses)");

        var mac = GuestNetns.RandomMac();
        using var guest = GuestNetns.Create(mac, bridged: true); // the bridge is the domain's NIC's: its neighbour entries count
        using var domain = host.StartDomain(LibvirtdHost.UniqueName("guest-arp"), spinning: true, nic: true, mac: mac, bridge: guest.Bridge);
        using var stranger = GuestNetns.Create(GuestNetns.RandomMac());
        using var imposter = GuestNetns.Create(mac); // the domain's MAC, but behind a host interface that is not its NIC's
        var dir = Directory.CreateTempSubdirectory("vmprobe-guestarp-").FullName;
        try
        {
            var port = GuestEndpointRun.FreePort(guest.HostAddress);
            var (run, log, prom) = await GuestEndpointRun.StartAsync(guest.HostAddress, port, dir);
            using var disposeRun = run;

            var script = Path.Combine(RepoPaths.Root, "scripts", "vmprobe-guest");
            var asked = guest.Run("/bin/sh", $"{script} -H {guest.HostAddress}:{port} -e task-clock,context-switches -i 250 sleep 1");
            output.WriteLine($"the guest's client (exit {asked.ExitCode}):\n{asked.Stdout}\n{asked.Stderr}");
            output.WriteLine(GuestEndpointRun.GuestApiLines(log));

            Assert.True(asked.ExitCode == 0, asked.Stderr);
            Assert.Contains($"Performance counter stats for 'sleep 1' (domain {domain.Name}, counted by the host)", asked.Stdout);

            // Its counts are that domain's: vCPU 0 spins under TCG, so it ran for a good part of the second.
            var summary = asked.Stdout[asked.Stdout.IndexOf("Performance counter stats", StringComparison.Ordinal)..];
            var vcpu0 = Regex.Match(summary, @"\n\s+(\d+)\s+task_clock \(vcpu 0\)\n");
            Assert.True(vcpu0.Success, asked.Stdout);
            Assert.True(long.Parse(vcpu0.Groups[1].Value) > 100_000_000, $"vCPU 0 of a spinning domain ran {vcpu0.Groups[1].Value} ns in ~1 s");
            Assert.Matches(@"\n\s+0\.\d{3}\s+\d+\s+task_clock \(vcpu 0\)\n", asked.Stdout); // the -i lines

            var refused = stranger.Run("/bin/sh", $"{script} -H {guest.HostAddress}:{port} -e task-clock true");
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains($"{stranger.PeerAddress} is not the address of any running domain", refused.Stderr);
            Assert.Contains("[unknown_peer]", refused.Stderr);

            var imposed = imposter.Run("/bin/sh", $"{script} -H {guest.HostAddress}:{port} -e task-clock true");
            output.WriteLine($"the imposter (exit {imposed.ExitCode}): {imposed.Stderr}");
            Assert.Equal(1, imposed.ExitCode);
            Assert.Contains("[unknown_peer]", imposed.Stderr);

            await run.Loop.RunOnceAsync(CancellationToken.None);
            var text = File.ReadAllText(prom);
            Assert.Contains("vmprobe_guestapi_sessions_started_total 1\n", text);
            Assert.Contains("vmprobe_guestapi_refusals_total{reason=\"unknown_peer\"} 2\n", text);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
