using VmProbe.Config;
using VmProbe.Kvm;
using Xunit;

namespace VmProbe.Tests.Config;

/// <summary>kvmstatsallow refuses items that would match nothing (upper case) or, by vanishing, everything (empty),
/// in both config forms, with a file:line: kvmstatsallow: error naming the item.</summary>
public class KvmStatsAllowConfigTests
{
    [Theory]
    [InlineData("prefix: p\nkvmstatsallow: [\"EXITS\"]\n", 2, "'EXITS' is not a KVM statistic name", "did you mean 'exits'")]
    [InlineData("prefix: p\nkvmstatsallow:\n  - exits\n  - Halt_*\n", 4, "'Halt_*' is not a KVM statistic name", "lower case")]
    [InlineData("prefix: p\nkvmstatsallow: [\"\"]\n", 2, "an empty item", "leave the list out")]
    [InlineData("prefix: p\nkvmstatsallow:\n  - exits\n  - ''\n", 4, "an empty item", "allow every statistic")]
    [InlineData("prefix=p\nkvmstatsallow=EXITS\n", 2, "'EXITS' is not a KVM statistic name", "did you mean 'exits'")]
    [InlineData("prefix=p\nkvmstatsallow=exits,,halt_*\n", 2, "an empty item", "leave the list out")]
    [InlineData("prefix=p\nkvmstatsallow=,\n", 2, "an empty item", "leave the list out")]
    public void RefusedItemsNameTheLineAndTheItem(string text, int line, string expected, string hint)
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(text, "k.conf"));
        var error = Assert.Single(ex.Errors);
        Assert.Equal((line, "kvmstatsallow"), (error.Line, error.Key));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains(hint, error.Message, StringComparison.Ordinal);
        Assert.Contains($"k.conf:{line}: kvmstatsallow: ", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("prefix: p\nkvmstatsallow:\n")]
    [InlineData("prefix=p\nkvmstatsallow=\n")]
    public void AnEmptyValueIsTheDefaultEveryStatistic(string text) =>
        Assert.Empty(ConfigLoader.Parse(text, "k.conf").Config.KvmStatsAllow);

    [Fact]
    public void ValidItemsInBothFormsAgree()
    {
        var yaml = ConfigLoader.Parse("prefix: p\nkvmstatsallow: [exits, 'halt_*', '*']\n", "k.yaml").Config;
        var keyValue = ConfigLoader.Parse("prefix=p\nkvmstatsallow=exits, halt_*, *\n", "k.conf").Config;
        Assert.Equal(new[] { "exits", "halt_*", "*" }, yaml.KvmStatsAllow);
        Assert.Equal(yaml.KvmStatsAllow, keyValue.KvmStatsAllow);
    }

    [Theory]
    [InlineData("exits", true)]
    [InlineData("halt_poll_*", true)]
    [InlineData("EXITS", false)]
    [InlineData("", false)]
    [InlineData("tsc-offset", false)]
    [InlineData("**", false)]
    public void TheFilterAgrees(string pattern, bool valid) => Assert.Equal(valid, KvmStatsFilter.IsValidPattern(pattern));
}
