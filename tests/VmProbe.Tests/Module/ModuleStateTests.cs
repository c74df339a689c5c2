using VmProbe.Commands;
using VmProbe.Config;
using Xunit;

namespace VmProbe.Tests.Module;

/// <summary>ModuleState (one per runspace) keeps Export-PromTextFile's legacy transforms and releases them with the rest.</summary>
public sealed class ModuleStateTests
{
    [Fact]
    public void LegacyTransformIsKeptPerConfigObjectAndReleasedWithTheState()
    {
        var state = new ModuleState();
        var config = new ProbeConfig { Naming = MetricNaming.Legacy };
        var kept = state.LegacyExpositionFor(config);

        Assert.Same(kept, state.LegacyExpositionFor(config));
        Assert.NotSame(kept, state.LegacyExpositionFor(new ProbeConfig { Naming = MetricNaming.Legacy }));
        Assert.NotSame(kept, new ModuleState().LegacyExpositionFor(config));

        state.ReleaseAll();
        Assert.NotSame(kept, state.LegacyExpositionFor(config));
    }

    [Fact]
    public void PromTextFileWriterIsKeptPerEndpointAndPrefix_AndReleasedWithTheState()
    {
        var dir = Directory.CreateTempSubdirectory("vmprobe-modulestate-test-").FullName;
        try
        {
            var state = new ModuleState();
            var path = Path.Combine(dir, "a.prom");
            var kept = state.PromTextFileFor(path, "vmprobe");

            Assert.Same(kept, state.PromTextFileFor(path, "vmprobe"));
            Assert.NotSame(kept, state.PromTextFileFor(path, "other"));
            Assert.NotSame(kept, state.PromTextFileFor(Path.Combine(dir, "b.prom"), "vmprobe"));
            Assert.Throws<VmProbeException>(() => state.PromTextFileFor(Path.Combine(dir, "a.txt"), "vmprobe"));
            Assert.Throws<VmProbeException>(() => state.PromTextFileFor(string.Empty, "vmprobe"));

            var set = new MetricSet();
            set.Family("up", MetricType.Gauge, "h", "domain").Add(1, "vm \"1\"");
            Assert.Equal(1, kept.Write(set).Series);
            Assert.Equal("# HELP vmprobe_up h\n# TYPE vmprobe_up gauge\nvmprobe_up{domain=\"vm \\\"1\\\"\"} 1\n", File.ReadAllText(path));

            state.ReleaseAll();
            Assert.NotSame(kept, state.PromTextFileFor(path, "vmprobe"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
