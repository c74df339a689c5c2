using VmProbe.Config;
using VmProbe.Kvm.Exits;
using Xunit;

namespace VmProbe.Tests.Config;

/// <summary>kvmexits, kvmexitreasons, kvmexittopn, kvmexitpervcpu in both config forms.</summary>
public class KvmExitsConfigTests
{
    [Fact]
    public void DefaultsAreCountsTop5PerDomain()
    {
        var config = ConfigLoader.Parse("prefix: p\n", "d.yaml").Config;
        KvmExitsOptions options = config;
        Assert.Equal((KvmExitsMode.Counts, 5, false), (options.Mode, options.TopN, options.PerVcpu));
        Assert.Empty(options.Reasons);
    }

    [Fact]
    public void YamlAndKeyValueFormsAgree()
    {
        var yaml = ConfigLoader.Parse("kvmexits: latency\nkvmexitreasons:\n  - EPT_VIOLATION\n  - npf\n  - 0x30\n  - EPT_VIOLATION\nkvmexittopn: 3\nkvm_exit_per_vcpu: yes\n", "k.yaml").Config;
        var keyValue = ConfigLoader.Parse("kvmexits=latency\nkvmexitreasons=EPT_VIOLATION, npf, 0x30\nkvmexittopn=3\nkvmexitpervcpu=true\n", "config.yaml").Config;
        foreach (var config in new[] { yaml, keyValue })
        {
            Assert.Equal(KvmExitsMode.Latency, config.KvmExits);
            Assert.Equal(new[] { "EPT_VIOLATION", "npf", "0x30" }, config.KvmExitReasons);
            Assert.Equal(3, config.KvmExitTopN);
            Assert.True(config.KvmExitPerVcpu);
        }

        Assert.Equal(KvmExitsMode.Off, ConfigLoader.Parse("kvmexits: off\n", "o.yaml").Config.KvmExits);
    }

    [Theory]
    [InlineData("kvmexits: always\n", "kvmexits", "must be off, counts or latency, got 'always'")]
    [InlineData("kvmexittopn: -1\n", "kvmexittopn", "must be an integer from 0 to 64")]
    [InlineData("kvmexittopn: 65\n", "kvmexittopn", "got '65'")]
    [InlineData("kvmexitpervcpu: maybe\n", "kvmexitpervcpu", "must be true or false")]
    [InlineData("kvmexitreasons: [HLT, ept_violation]\n", "kvmexitreasons", "'ept_violation' is not a VM exit reason")]
    public void BadValuesNameTheKey(string text, string key, string expected)
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(text, "bad.yaml"));
        var error = Assert.Single(ex.Errors);
        Assert.Equal((1, key), (error.Line, error.Key));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void CheckSaysWhichModeWouldRun()
    {
        var off = ConfigHostCheck.DescribeKvmExits(ConfigLoader.Parse("kvmexits: off\n", "o.yaml").Config);
        Assert.Equal("kvmexits: off", off);

        // eBPF where it can run (root, libbpf, BTF: this machine); otherwise the line says why, then perf-filter or off.
        var counts = ConfigHostCheck.DescribeKvmExits(ConfigLoader.Parse("kvmexits: counts\n", "c.yaml").Config);
        if (VmProbe.Bpf.BpfAvailability.Probe() is { } unavailable || Environment.UserName != "root")
        {
            Assert.Contains("bpf not available", counts);
            Assert.Matches("^kvmexits: (perf-filter|off), because ", counts);
        }
        else
        {
            Assert.StartsWith("kvmexits: bpf-counts (eBPF on kvm:kvm_exit", counts);
            var latency = ConfigHostCheck.DescribeKvmExits(ConfigLoader.Parse("kvmexits: latency\n", "l.yaml").Config);
            Assert.StartsWith("kvmexits: bpf-latency (", latency);
        }
    }
}
