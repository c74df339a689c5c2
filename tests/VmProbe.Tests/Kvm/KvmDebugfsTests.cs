using System.Text;
using VmProbe.Config;
using VmProbe.Kvm;
using VmProbe.Prometheus;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Kvm;

/// <summary>The debugfs fallback on a tree shaped like a real x86 host's /sys/kernel/debug/kvm (VMPROBE_DEBUGFS).</summary>
public sealed class KvmDebugfsTests : IDisposable
{
    private const UnixFileMode Rw = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode Ro = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private readonly string _root = Directory.CreateTempSubdirectory("kvm-debugfs-").FullName;

    public KvmDebugfsTests()
    {
        var kvm = Path.Combine(_root, "debug", "kvm");
        Write(kvm, "exits", "123456\n", Rw);
        Write(kvm, "halt_poll_success_ns", "3000000000\n", Rw);
        Write(kvm, "halt_wait_hist", "5\n", Rw);
        Write(kvm, "pages_4k", "1024\n", Ro);
        Write(kvm, "max_mmu_page_hash_collisions", "7\n", Rw);
        Write(kvm, "blocking", "1\n", Ro);
        var vm = Path.Combine(kvm, "4242-11");
        Write(vm, "exits", "1000\n", Rw);
        Write(vm, "halt_poll_success_ns", "2500000000\n", Rw);
        Write(vm, "remote_tlb_flush", "3\n", Rw);
        Write(vm, "pages_4k", "512\n", Ro);
        Write(vm, "mmu_rmaps_stat", "rmap_count 0 1 2\n", Ro);
        Write(Path.Combine(vm, "vcpu0"), "tsc-offset", "-12345\n", Ro);
        Write(Path.Combine(kvm, "5555-20"), "exits", "9\n", Rw);
        Directory.CreateDirectory(Path.Combine(_root, "proc", "4242", "fd"));
    }

    private static void Write(string directory, string name, string text, UnixFileMode mode)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, text);
#pragma warning disable CA1416 // Linux only
        File.SetUnixFileMode(path, mode);
#pragma warning restore CA1416
    }

    private KvmStatsSource Source(KvmStatsMode mode = KvmStatsMode.Vm, params string[] allow) =>
        new(mode, allow, null, _root, KvmStatsFd.IsKernelStatsLink, new KvmDebugfs(Path.Combine(_root, "debug")));

    private static CycleContext Context(params VmDomain[] domains) =>
        new(domains, DateTimeOffset.UnixEpoch, NullProbeLog.Instance, CancellationToken.None) { ItemErrors = new List<VmProbeException>() };

    private static VmDomain Domain(int pid, string name) => new() { Name = name, Pid = pid, Uuid = Guid.Parse("0e1d2c3b-0000-0000-0000-000000000001") };

    [Fact]
    public void HostTotalsAndAVmByItsQemuPid()
    {
        using var source = Source();
        var metrics = new MetricSet();
        var context = Context(Domain(4242, "vm1"), Domain(999_999, "nokvm"));

        source.Collect(context, metrics);

        var text = Encoding.UTF8.GetString(new PromTextWriter("vmprobe").Render(metrics, out _).Span);
        Assert.Empty(context.ItemErrors!);
        Assert.Contains("vmprobe_host_kvm_exits_total 123456\n", text);
        Assert.Contains("vmprobe_host_kvm_halt_poll_success_seconds_total 3\n", text);
        Assert.Contains("# TYPE vmprobe_host_kvm_pages_4k gauge\nvmprobe_host_kvm_pages_4k 1024\n", text);
        Assert.Contains("# TYPE vmprobe_host_kvm_max_mmu_page_hash_collisions gauge\n", text);
        Assert.Contains("vmprobe_domain_kvm_exits_total{domain=\"vm1\",uuid=\"0e1d2c3b-0000-0000-0000-000000000001\"} 1000\n", text);
        Assert.Contains("vmprobe_domain_kvm_halt_poll_success_seconds_total{domain=\"vm1\",uuid=\"0e1d2c3b-0000-0000-0000-000000000001\"} 2.5\n", text);
        Assert.Contains("vmprobe_domain_kvm_stats_info{domain=\"vm1\",uuid=\"0e1d2c3b-0000-0000-0000-000000000001\",source=\"debugfs\"} 1\n", text);
        Assert.DoesNotContain("hist", text);
        Assert.DoesNotContain("rmaps", text);
        Assert.DoesNotContain("tsc", text);
        Assert.DoesNotContain("nokvm", text);
        Assert.DoesNotContain("9\n", text.Split('\n').Where(l => l.Contains("5555", StringComparison.Ordinal)));
    }

    [SkippableFact]
    public void PromtoolCleanAndAllowlist()
    {
        Skip.IfNot(Promtool.IsAvailable, Promtool.UnavailableReason);
        using var source = Source(KvmStatsMode.Vm, "exits");
        var metrics = new MetricSet();

        source.Collect(Context(Domain(4242, "vm1")), metrics);

        Assert.Equal(new[] { "host_kvm_exits_total", "domain_kvm_exits_total", "domain_kvm_stats_info" },
            metrics.Families.Where(f => f.Samples.Count > 0).Select(f => f.Name));
        var (exitCode, output) = Promtool.Check(Encoding.UTF8.GetString(new PromTextWriter("vmprobe").Render(metrics, out _).Span));
        Assert.Equal((0, string.Empty), (exitCode, output));
    }

    [Fact]
    public void NoDebugfsIsQuietAndTheMountPointComesFromTheEnvironment()
    {
        using var source = new KvmStatsSource(KvmStatsMode.Vm, Array.Empty<string>(), null, _root, KvmStatsFd.IsKernelStatsLink,
            new KvmDebugfs(Path.Combine(_root, "nowhere")));
        var metrics = new MetricSet();
        source.Collect(Context(Domain(4242, "vm1")), metrics);
        Assert.DoesNotContain(metrics.Families, f => f.Samples.Count > 0);

        var before = Environment.GetEnvironmentVariable(KvmDebugfs.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(KvmDebugfs.EnvironmentVariable, Path.Combine(_root, "debug"));
            Assert.Equal(Path.Combine(_root, "debug", "kvm"), new KvmDebugfs().KvmDirectory);
            Environment.SetEnvironmentVariable(KvmDebugfs.EnvironmentVariable, null);
            Assert.Equal("/sys/kernel/debug/kvm", new KvmDebugfs().KvmDirectory);
        }
        finally
        {
            Environment.SetEnvironmentVariable(KvmDebugfs.EnvironmentVariable, before);
        }
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
