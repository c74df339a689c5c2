using VmProbe.Config;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Config;

/// <summary>The <c>kvm stats:</c> line of <c>vmprobe --check</c>: mode, allowlist, and what this host offers each source.</summary>
public sealed class KvmStatsCheckTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("kvm-stats-check-").FullName;

    [Fact]
    public void OffSaysSoAndNothingElse()
    {
        Assert.Equal("off (kvmstats: off): no KVM statistics are read",
            ConfigHostCheck.DescribeKvmStats(new ProbeConfig { KvmStats = KvmStatsMode.Off }, _root));
    }

    [Fact]
    public void ModeAllowlistAndEachSourceAreNamed()
    {
        Directory.CreateDirectory(Path.Combine(_root, "kvm"));
        var config = new ProbeConfig { KvmStats = KvmStatsMode.Vcpu, KvmStatsAllow = new[] { "exits", "halt_*" }, Discovery = DomainDiscovery.Libvirt };

        var line = ConfigHostCheck.DescribeKvmStats(config, _root);

        Assert.StartsWith("vcpu, allow exits,halt_*; stats fds: ", line);
        Assert.Contains(Requirements.IsRoot ? "root with pidfd_getfd" : "not as non-root", line);
        Assert.Contains("libvirt VM group: asked for", line);
        Assert.EndsWith($"debugfs: {_root}/kvm", line);
    }

    [Fact]
    public void WithoutLibvirtOrDebugfsTheLineSaysWhy()
    {
        var config = new ProbeConfig { KvmStats = KvmStatsMode.Vm, Discovery = DomainDiscovery.Process };

        var line = ConfigHostCheck.DescribeKvmStats(config, Path.Combine(_root, "missing"));

        Assert.StartsWith("vm, all statistics; ", line);
        Assert.Contains("libvirt VM group: not asked (discovery does not use libvirt)", line);
        Assert.Contains($"debugfs: none ({_root}/missing/kvm does not exist", line);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
