using System.Security;
using System.Text.RegularExpressions;
using VmProbe.Tests.Infrastructure;
using VmProbe.Tests.Perf;
using Xunit;
using Xunit.Abstractions;

namespace VmProbe.Tests.GuestApi;

/// <summary>
/// perf-kvm's workflow for real: a Debian cloud kernel with a busybox initramfs boots under QEMU/TCG, its init brings up
/// virtio-net on a tap the host gives an address, runs scripts/vmprobe-guest around a busy loop against the runner's
/// guest endpoint and prints the report on the serial console. The host identifies the guest from the connection alone.
/// </summary>
[Collection(LibvirtdCollection.Name)]
public sealed class GuestApiBootTests(LibvirtdHost host, ITestOutputHelper output)
{
    /// <summary>Where scripts/install-packages.sh test puts the kernel package (a .deb, never installed on the host).</summary>
    public const string KernelCache = "/var/cache/vmprobe-test";

    private static readonly string[] Events = { "task-clock", "page-faults", "context-switches" };

    [SkippableFact]
    public async Task ABootedGuestAsksForItsOwnCountersAndGetsThem()
    {
        Skip.IfNot(host.Available, host.SkipReason);
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        var kernel = Directory.Exists(KernelCache) ? Directory.GetFiles(KernelCache, "linux-image-*-cloud-amd64_*.deb").Order(StringComparer.Ordinal).LastOrDefault() : null;
        Skip.If(kernel is null, $"no Debian cloud kernel package in {KernelCache} (scripts/install-packages.sh test downloads one)");
        Skip.If(Requirements.Run("/bin/sh", "-c \"dpkg-query -W -f='${Status}' busybox-static | grep -q 'install ok installed'\"").ExitCode != 0,
            "busybox-static is not installed (the guest's userland)");
        Skip.If(Requirements.FindCommand("dpkg-deb") is null || Requirements.FindCommand("ip") is null, "dpkg-deb or ip is missing");

        var id = Guid.NewGuid().ToString("N")[..8];
        var dir = Path.Combine(LibvirtdHost.ImageDirectory, $"{LibvirtdHost.NamePrefix}boot-{id}");
        Directory.CreateDirectory(dir);
        LibvirtdTestDomain? domain = null;
        try
        {
            var build = Requirements.Run("/bin/sh", $"{Path.Combine(RepoPaths.Root, "tests", "VmProbe.Tests", "GuestApi", "guest-initramfs.sh")} {kernel} /bin/busybox {Path.Combine(RepoPaths.Root, "scripts", "vmprobe-guest")} {dir}");
            Assert.True(build.ExitCode == 0, "building the guest failed: " + build.Stderr);

            var (hostAddress, guestAddress) = GuestNetns.RandomSubnet();
            var port = GuestEndpointRun.FreePort(System.Net.IPAddress.Any); // the tap that will hold hostAddress does not exist yet
            var name = LibvirtdHost.UniqueName("guest-boot");
            var tap = $"vmpg{id}t";
            var console = Path.Combine(dir, "console.log");
            var cmdline = $"console=ttyS0 panic=-1 quiet vmprobe.ip={guestAddress}/30 vmprobe.gw={hostAddress} vmprobe.host={hostAddress}:{port} vmprobe.events={string.Join(',', Events)}";
            var xml = Path.Combine(dir, "domain.xml");
            File.WriteAllText(xml, DomainXml(name, dir, cmdline, GuestNetns.RandomMac(), tap, console));

            // Paused until the tap has the host's address and the endpoint knows the domain's threads.
            var created = host.RunVirsh("create", xml, "--paused");
            Assert.True(created.ExitCode == 0, created.Stderr);
            domain = new LibvirtdTestDomain(host, name, null);
            foreach (var args in new[] { $"addr add {hostAddress}/30 dev {tap}", $"link set {tap} up" })
            {
                var ip = Requirements.Run("ip", args);
                Assert.True(ip.ExitCode == 0, $"ip {args}: {ip.Stderr}");
            }

            var (run, log, _) = await GuestEndpointRun.StartAsync(hostAddress, port, dir);
            using var disposeRun = run;
            Assert.Equal(0, host.RunVirsh("resume", name).ExitCode);

            var text = WaitForReport(console, TimeSpan.FromSeconds(50));
            output.WriteLine(text);
            output.WriteLine(GuestEndpointRun.GuestApiLines(log));

            Assert.Contains("VMPROBE-GUEST-END 0", text);
            Assert.Contains(log.Lines, l => l.Message.StartsWith($"guestapi: {guestAddress} is domain '{name}'", StringComparison.Ordinal));
            Assert.Matches($@"Performance counter stats for '.*' \(domain {Regex.Escape(name)}, counted by the host\)", text);
            foreach (var perfEvent in Events)
            {
                var line = Regex.Match(text, $@"\n\s+(\d+)\s+{perfEvent.Replace('-', '_')} \(vcpu 0\)\r?\n");
                Assert.True(line.Success, $"no vCPU 0 {perfEvent} in the report:\n{text}");
                Assert.True(long.Parse(line.Groups[1].Value) > 0, $"{perfEvent} of vCPU 0 is 0:\n{text}");
            }
        }
        finally
        {
            domain?.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The serial console once the guest's init printed its end marker (or what it printed by the deadline).</summary>
    private static string WaitForReport(string console, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var text = string.Empty;
        while (DateTime.UtcNow < deadline)
        {
            text = File.Exists(console) ? File.ReadAllText(console) : string.Empty;
            if (text.Contains("VMPROBE-GUEST-END", StringComparison.Ordinal))
            {
                break;
            }

            Thread.Sleep(500);
        }

        return text;
    }

    private static string DomainXml(string name, string dir, string cmdline, string mac, string tap, string console)
    {
        string E(string s) => SecurityElement.Escape(s);
        return $"""
            <domain type='qemu'>
              <name>{E(name)}</name>
              <memory unit='MiB'>256</memory>
              <vcpu>1</vcpu>
              <os>
                <type arch='x86_64' machine='pc'>hvm</type>
                <kernel>{E(Path.Combine(dir, "vmlinuz"))}</kernel>
                <initrd>{E(Path.Combine(dir, "initrd"))}</initrd>
                <cmdline>{E(cmdline)}</cmdline>
              </os>
              <features><acpi/></features>
              <cpu mode='custom' match='exact'><model fallback='allow'>qemu64</model></cpu>
              <on_poweroff>destroy</on_poweroff>
              <on_reboot>destroy</on_reboot>
              <on_crash>destroy</on_crash>
              <devices>
                <interface type='ethernet'><mac address='{mac}'/><target dev='{tap}' managed='yes'/><model type='virtio'/></interface>
                <serial type='file'><source path='{E(console)}'/><target port='0'/></serial>
                <memballoon model='none'/>
              </devices>
            </domain>
            """;
    }
}
