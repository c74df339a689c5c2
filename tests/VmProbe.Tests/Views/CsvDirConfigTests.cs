using VmProbe.Composition;
using VmProbe.Config;
using VmProbe.Prometheus;
using VmProbe.Views;
using Xunit;

namespace VmProbe.Tests.Views;

/// <summary>Issue 15: the <c>csvdir</c> key through the config loader, and the sink it composes beside the textfile.</summary>
public sealed class CsvDirConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vmprobe-csvdir-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string text)
    {
        var path = Path.Combine(_dir, "probe.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void CsvDirIsReadAndAbsentByDefault()
    {
        Assert.Null(ConfigLoader.Load(Write("delay: 1000\n")).Config.CsvDir);
        Assert.Equal("/var/log/vmprobe", ConfigLoader.Load(Write("csv_dir: /var/log/vmprobe\n")).Config.CsvDir);
    }

    [Fact]
    public void AControlCharacterIsAnErrorNamingTheKeyAndLine()
    {
        var path = Write("delay: 1000\ncsvdir: \"/var/log/vm\\nprobe\"\n");
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path));
        var problem = Assert.Single(error.Errors);
        Assert.Equal("csvdir", problem.Key);
        Assert.Equal(2, problem.Line);
        Assert.Contains("control character", problem.Message);
    }

    [Fact]
    public void ARelativeCsvDirIsAWarning()
    {
        var result = ConfigLoader.Load(Write("csvdir: logs\n"));
        Assert.Contains(result.Warnings, w => w.Key == "csvdir" && w.Message.Contains("relative", StringComparison.Ordinal));
    }

    [Fact]
    public void CsvDirComposesACsvWriterBesideTheTextfileAndTheRunnerFlagOverridesIt()
    {
        var config = new ProbeConfig { Endpoint = Path.Combine(_dir, "out.prom"), CsvDir = Path.Combine(_dir, "csv"), Discovery = DomainDiscovery.Process };
        var options = new ProbeCompositionOptions { Root = _dir };
        using (var composition = ProbeComposition.Create(config, NullProbeLog.Instance, options))
        {
            var sinks = Assert.IsType<CompositeSink>(composition.Sink).Sinks;
            Assert.IsType<PromTextfileSink>(sinks[0]);
            Assert.EndsWith(Path.Combine(_dir, "csv") + "/*.csv", Assert.IsType<ViewSink>(sinks[1]).Destination);
        }

        using (var plain = ProbeComposition.Create(config, NullProbeLog.Instance, options, new ProbeOutputs { CsvDir = "/elsewhere" }))
        {
            Assert.Equal("/elsewhere/*.csv", ((CompositeSink)plain.Sink).Sinks[1].Destination);
        }

        using var none = ProbeComposition.Create(new ProbeConfig { Endpoint = config.Endpoint }, NullProbeLog.Instance, options);
        Assert.IsType<PromTextfileSink>(none.Sink);
    }
}
