using VmProbe.Config;
using VmProbe.Kvm;
using VmProbe.Native;
using VmProbe.Perf;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Kvm;

/// <summary>KVM stats fds share the process' fd budget with perf: counted by FdLimits, seen by PerfFdBudget.Fits.</summary>
[Collection(ProcessWideCollection.Name)]
public sealed class KvmFdBudgetTests : IDisposable
{
    private readonly KvmStatsSourceTests _helpers = new();

    [SkippableFact]
    public void HeldKvmStatsFdsCountAgainstThePerfBudget()
    {
        Skip.IfNot(KvmStatsSourceTests.CanRun(out var why), why);
        var pid = _helpers.StartHelper(KvmStatsFixture.X86Vcpu(0).Build(), KvmStatsFixture.X86Vcpu(1).Build());
        var limit = new PerfFdBudget().Limit;
        Skip.If(limit > int.MaxValue, $"RLIMIT_NOFILE {limit} is too large to fill the budget exactly");
        var before = FdLimits.KeptKvmStatsFds;
        using var source = new KvmStatsSource(KvmStatsMode.Vm, Array.Empty<string>(), null, "/", KvmStatsSourceTests.IsMemfdStats);
        source.Collect(new CycleContext(new[] { new VmDomain { Name = "vm", Pid = pid } }, DateTimeOffset.UnixEpoch, NullProbeLog.Instance, CancellationToken.None), new MetricSet());
        Assert.Equal(before + 2, FdLimits.KeptKvmStatsFds);

        // Room for exactly one more perf fd if the two KVM stats fds were not counted: with them, none.
        var reserved = (int)((long)limit - PerfFdBudget.OpenPerfFds - PerfFdBudget.KeptProcfsFds - (FdLimits.KeptKvmStatsFds - 2) - 1);
        var budget = new PerfFdBudget(reserved);
        Assert.False(budget.Fits(1));
        Assert.True(new PerfFdBudget(reserved - 2).Fits(1));
        Assert.False(FdLimits.Fits(1, reserved)); // what the KVM source asks before duplicating

        source.Dispose();
        Assert.Equal(before, FdLimits.KeptKvmStatsFds);
        Assert.True(budget.Fits(1));
    }

    public void Dispose() => _helpers.Dispose();
}
