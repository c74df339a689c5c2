using VmProbe.Config;
using Xunit;

namespace VmProbe.Tests.Config;

/// <summary>ConfigHostCheck on a fake tracefs, so the expectations do not depend on the kernel's tracepoints.</summary>
public sealed class ConfigHostCheckTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("vmprobe-hostcheck-").FullName;

    public ConfigHostCheckTests()
    {
        foreach (var (name, id) in new[] { ("sched/sched_switch", 316), ("sched/sched_wakeup", 318), ("kvm/kvm_exit", 1200) })
        {
            Directory.CreateDirectory(Path.Combine(dir, "tracefs", "events", name));
            File.WriteAllText(Path.Combine(dir, "tracefs", "events", name, "id"), id + "\n");
        }
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private IReadOnlyList<ConfigError> Check(string yaml) =>
        ConfigHostCheck.Check(ConfigLoader.Parse($"endpoint: {dir}/out/vms.prom\n" + yaml, "c.yaml"), Path.Combine(dir, "tracefs"));

    [Fact]
    public void KnownTracepointsByNameAndIdPass()
    {
        Assert.Empty(Check("perftracepoint: [sched:sched_switch, 1200]\nperfsoftware: cs\n"));
    }

    [Fact]
    public void MisspelledTracepointGetsDidYouMean()
    {
        var error = Assert.Single(Check("perfsoftware: cs\nperftracepoint:\n  - sched:sched_swich\n"));
        Assert.Equal((4, "perftracepoint"), (error.Line, error.Key));
        Assert.Equal("unknown tracepoint 'sched:sched_swich'; did you mean sched:sched_switch?", error.Message);
    }

    [Fact]
    public void UnknownTracepointIdFails()
    {
        var error = Assert.Single(Check("perftracepoint: 99999999\n"));
        Assert.Equal((2, "perftracepoint"), (error.Line, error.Key));
        Assert.StartsWith("no tracepoint has id 99999999", error.Message);
    }

    [Fact]
    public void EndpointProblemsCarryTheEndpointLine()
    {
        Directory.CreateDirectory(Path.Combine(dir, "x.prom"));
        var error = Assert.Single(ConfigHostCheck.Check(ConfigLoader.Parse($"delay: 1000\n\nendpoint: {dir}/x.prom\n", "c.yaml")));
        Assert.Equal((3, "endpoint"), (error.Line, error.Key));
        Assert.Null(ConfigHostCheck.CheckEndpoint(Path.Combine(dir, "new", "dir", "a.prom")));
    }
}
