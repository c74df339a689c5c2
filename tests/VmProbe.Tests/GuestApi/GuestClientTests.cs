using System.Net;
using VmProbe.Cli;
using VmProbe.GuestApi;
using VmProbe.Tests.Infrastructure;
using VmProbe.Tests.Perf;
using VmProbe.Tests.Prometheus;
using Xunit;

namespace VmProbe.Tests.GuestApi;

/// <summary>
/// The two guest clients against a real endpoint on 127.0.0.1 (this process's threads stand for the VM, the peer
/// check is the resolver seam): scripts/vmprobe-guest (sh + curl or nc, as in a minimal guest) and <c>vmprobe guest</c>.
/// </summary>
// FakeVcpus names threads of this process CPU n/KVM: not beside tests that discover this process as an unnamed QEMU.
[Collection(ProcessWideCollection.Name)]
public sealed class GuestClientTests : IDisposable
{
    private static readonly GuestIdentity Self = new("vmprobe-test-client", Guid.NewGuid());
    private readonly FakeVcpus vcpus = new(1);
    private readonly GuestApiServer server;

    public GuestClientTests()
    {
        var domain = vcpus.Domain(Self.Name, Self.Uuid);
        server = GuestApiServer.Start(
            new[] { new GuestApiAddress(GuestTransport.Tcp, new IPEndPoint(IPAddress.Loopback, 0), 0) },
            new FixedResolver(IPAddress.Loopback, Self), () => new[] { domain }, new ListLog());
    }

    private string HostPort => $"127.0.0.1:{server.TcpEndpoints[0].Port}";

    public void Dispose()
    {
        server.Dispose();
        vcpus.Dispose();
    }

    [SkippableFact]
    public void TheShellClientRunsTheCommandAndPrintsAPerfStatReport()
    {
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        Skip.If(Requirements.FindCommand("nc") is null && Requirements.FindCommand("curl") is null, "neither nc nor curl is installed");
        var script = Path.Combine(RepoPaths.Root, "scripts", "vmprobe-guest");
        var (exit, stdout, stderr) = Requirements.Run("/bin/sh", $"{script} -H {HostPort} -e task-clock,page-faults -i 200 -c 0 sh -c \"sleep 0.7; exit 3\"", timeoutMs: 60_000);

        Assert.True(exit == 3, $"exit {exit} (the command's status is the client's): {stderr}");
        Assert.Contains($"Performance counter stats for 'sh -c sleep 0.7; exit 3' (domain {Self.Name}, counted by the host)", stdout);
        Assert.Matches(@"\n\s+\d+\s+task_clock \(vcpu 0\)\n", stdout);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(stdout, @"\n\s+0\.\d{3}\s+\d+\s+page_faults \(vcpu 0\)\n"), stdout + stderr); // -i lines: seconds, count, event
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(stdout, @"\n\s+(0\.[6-9]|[1-9]\.)\d+ seconds time elapsed"), stdout + stderr);
        Assert.Equal(1, server.Stats.SessionsStarted);
    }

    [SkippableFact]
    public void TheShellClientReportsTheHostsRefusal()
    {
        Skip.If(Requirements.FindCommand("nc") is null && Requirements.FindCommand("curl") is null, "neither nc nor curl is installed");
        var script = Path.Combine(RepoPaths.Root, "scripts", "vmprobe-guest");
        var marker = Path.Combine(Path.GetTempPath(), $"vmprobe-guest-{Guid.NewGuid():N}");
        var (exit, _, stderr) = Requirements.Run("/bin/sh", $"{script} -H {HostPort} -d someone-else touch {marker}", timeoutMs: 30_000);
        Assert.Equal(1, exit);
        Assert.False(File.Exists(marker), "the command does not run when the host refuses");
        Assert.True(stderr.Contains("the host refused: the request claims domain 'someone-else'", StringComparison.Ordinal), stderr);
        Assert.Contains("[claim_mismatch]", stderr);
    }

    [SkippableFact]
    public void VmprobeGuestPrintsIntervalLinesAndTheReport()
    {
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = ProbeRunner.Run(new[] { "guest", "-H", HostPort, "-e", "task-clock", "-i", "200", "--", "sleep", "0.7" }, DefaultWiring.Create(), stdout, stderr, CancellationToken.None);

        Assert.True(exit == 0, stderr.ToString());
        var text = stdout.ToString();
        Assert.Contains($"Performance counter stats for 'sleep 0.7' (domain {Self.Name}, counted by the host)", text);
        Assert.Matches(@"\n\s+[\d,]+\s+task_clock\n", text);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(text, @"\s+0\.\d{3}\s+[\d,]+\s+task_clock \(vcpu 0\)\n"), text);
        Assert.Contains("seconds time elapsed", text);
    }

    [Fact]
    public void VmprobeGuestNeedsACommand()
    {
        var stderr = new StringWriter();
        Assert.Equal(ProbeRunner.ExitUsage, ProbeRunner.Run(new[] { "guest", "-H", HostPort }, DefaultWiring.Create(), new StringWriter(), stderr, CancellationToken.None));
        Assert.Contains("a COMMAND to run is required", stderr.ToString());
    }
}
