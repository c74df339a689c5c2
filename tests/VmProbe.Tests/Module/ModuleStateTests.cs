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
}
