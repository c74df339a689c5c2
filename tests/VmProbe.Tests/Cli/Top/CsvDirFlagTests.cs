using VmProbe.Cli;
using Xunit;

namespace VmProbe.Tests.Cli.Top;

/// <summary>Issue 15: the runner's <c>--csvdir</c> flag.</summary>
public class CsvDirFlagTests
{
    [Fact]
    public void CsvDirIsTakenWithItsValue()
    {
        Assert.Equal("/var/log/vmprobe", RunnerOptions.Parse(new[] { "--config", "c.yaml", "--csvdir", "/var/log/vmprobe" }, out _)!.CsvDir);
        Assert.Equal("/d", RunnerOptions.Parse(new[] { "--config", "c.yaml", "--csvdir=/d" }, out _)!.CsvDir);
        Assert.Null(RunnerOptions.Parse(new[] { "--config", "c.yaml" }, out _)!.CsvDir);
    }

    [Theory]
    [InlineData("--csvdir", "--csvdir needs a value")]
    [InlineData("--csvdir=/a\nb", "--csvdir: the directory contains a control character")]
    public void ABadCsvDirIsAUsageErrorNamingTheFlag(string argument, string reason)
    {
        Assert.Null(RunnerOptions.Parse(new[] { "--config", "c.yaml", argument }, out var error));
        Assert.Equal(reason, error);
    }
}
