using VmProbe.Bpf;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Bpf;

/// <summary>
/// What makes loading the tracers slow, kept small (issue 14's <c>--once</c>): the verifier walks tstore.h's per-slot
/// loops once (bpf_loop) rather than once per slot, and the tracer's LRU maps take the sizes it is given.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public class BpfLoadCostTests
{
    // A bounded loop over the 272 slots cost the exit hook 178,291 verified instructions (0.2-0.3 s) and the iterator
    // 9,299; walked once they are a few hundred.
    private const long MostInstructions = 5_000;

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheKvmSlotWalksAreVerifiedOnce(bool latency)
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        using var tracer = KvmExitTracer.Open(latency, maxCounts: 4096, path: BpfCountPath.TaskStorage);
        AssertVerifiedCheaply(tracer.Object, "process_exit_ts", ThreadCounts.IteratorProgram);
    }

    [SkippableFact]
    public void TheSelfTestSlotWalksAreVerifiedOnce()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        using var tracer = SyscallTracer.Open(latency: false, onlyTgid: Environment.ProcessId, maxCounts: 1024, path: BpfCountPath.TaskStorage);
        AssertVerifiedCheaply(tracer.Object, "process_exit_ts", ThreadCounts.IteratorProgram);
    }

    [SkippableFact]
    public void TheKvmMapsTakeTheSizesGiven()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        using (var sized = KvmExitTracer.Open(latency: true, maxCounts: 4096, maxHistograms: 512, maxEvents: 2048, maxWakeups: 64, maxThreads: 256))
        {
            Assert.Equal(2048u, sized.Object.Map("events").MaxEntries);
            Assert.Equal(64u, sized.Object.Map("wakeup_ns").MaxEntries);
            Assert.Equal(256u, sized.Object.Map("threads").MaxEntries);
            Assert.Equal(256u, sized.Object.Map("pending").MaxEntries); // latency mode: a pending pair per thread
            Assert.Equal(512u, sized.Object.Map("latency").MaxEntries);
            Assert.Empty(sized.Snapshot().Exits);
        }

        using var counts = KvmExitTracer.Open(latency: false, maxCounts: 4096, maxThreads: 256);
        Assert.Equal(256u, counts.Object.Map("threads").MaxEntries);
        Assert.Equal(1u, counts.Object.Map("pending").MaxEntries); // counts mode never pairs
        Assert.Equal(65536u, counts.Object.Map("events").MaxEntries); // kvm_exits.bpf.c's default when not given
    }

    private static void AssertVerifiedCheaply(BpfObject obj, params string[] programs)
    {
        foreach (var program in programs)
        {
            var fd = obj.ProgramFd(program);
            Assert.True(fd > 0, $"{program} is not loaded");
            var verified = BpfHost.VerifiedInstructions(fd);
            Skip.If(verified is null, "the kernel's fdinfo has no verified_insns (Linux 5.16+)");
            Assert.True(verified < MostInstructions, $"{program}: the verifier processed {verified} instructions (at most {MostInstructions} expected)");
        }
    }
}
