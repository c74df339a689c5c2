using VmProbe.Bpf;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Bpf;

/// <summary>
/// The KVM programs for real: every one loads, passes the verifier and attaches on this kernel (its kvm tracepoints
/// exist even where they never fire), and Dispose leaves no fd and no program behind.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public class KvmExitTracerTests
{
    private static readonly IEnumerable<string> AllPrograms = KvmExitTracer.CountPrograms.Concat(KvmExitTracer.LatencyPrograms)
        .Concat(KvmExitTracer.StoreCountPrograms).Concat(KvmExitTracer.StoreLatencyPrograms).Append(ThreadCounts.IteratorProgram).Distinct();

    [SkippableFact]
    public void EveryProgramPassesTheVerifier()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        using var obj = BpfObject.Load("kvm_exits", BpfObject.LoadEmbedded("kvm_exits"), new Dictionary<string, uint> { ["counts"] = 64 });
        Assert.Equal(AllPrograms.OrderBy(p => p), obj.Programs().OrderBy(p => p));
        foreach (var program in obj.Programs())
        {
            var fd = obj.ProgramFd(program);
            Assert.True(fd > 0, $"{program} has no fd: not loaded");
            Assert.True(BpfHost.ProgramId(fd) > 0, $"{program}: no prog_id in /proc/self/fdinfo/{fd}");
        }
    }

    [SkippableFact]
    public void LatencyModeLoadsAndAttachesItsProgramsAlone()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        using var tracer = KvmExitTracer.Open(latency: true, maxCounts: 4096);
        Assert.Equal(BpfCountPath.TaskStorage, tracer.Path); // this kernel (6.x) takes task storage in tp/ programs
        var expected = KvmExitTracer.StoreLatencyPrograms.Append(ThreadCounts.IteratorProgram).OrderBy(p => p).ToArray();
        Assert.Equal(expected, tracer.Object.AttachedPrograms.OrderBy(p => p));
        Assert.DoesNotContain("kvm_exit_ts", tracer.Object.AttachedPrograms); // kvm_exit_latency_ts counts in this mode
        Assert.Contains("kvm_entry_ts", tracer.Object.AttachedPrograms); // raw_tp/kvm_entry attaches here
        // The verifier's time goes to what runs: the hash path's twins and counts mode's kvm_exit_ts are not loaded.
        Assert.Equal(expected, tracer.Object.LoadedPrograms().OrderBy(p => p));
        Assert.Equal(AllPrograms.Count() - expected.Length, tracer.Object.Programs().Count(p => tracer.Object.ProgramFd(p) < 0));

        var snapshot = tracer.Snapshot(); // reads every map and the blocks (empty here: no /dev/kvm) without error
        Assert.NotNull(snapshot.Exits);
        Assert.True(tracer.Latency);
    }

    [SkippableTheory]
    [InlineData(BpfCountPath.Hash)]
    [InlineData(BpfCountPath.TaskStorage)]
    public void CountsModeAttachesNoHandlingTimePrograms(BpfCountPath path)
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        using var tracer = KvmExitTracer.Open(latency: false, maxCounts: 4096, path: path);
        var expected = path == BpfCountPath.Hash ? KvmExitTracer.CountPrograms : KvmExitTracer.StoreCountPrograms.Append(ThreadCounts.IteratorProgram);
        Assert.Equal(expected.OrderBy(p => p), tracer.Object.AttachedPrograms.OrderBy(p => p));
        Assert.Equal(expected.OrderBy(p => p), tracer.Object.LoadedPrograms().OrderBy(p => p));
        Assert.DoesNotContain("kvm_entry", tracer.Object.AttachedPrograms);
        Assert.DoesNotContain("kvm_entry_ts", tracer.Object.AttachedPrograms);
        Assert.Empty(tracer.Snapshot().HandlingTimes);
    }

    [SkippableFact]
    public void TheHashFallbackLoadsAndAttachesWithoutTaskStorage()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        using var tracer = KvmExitTracer.Open(latency: true, maxCounts: 4096, path: BpfCountPath.Hash);
        Assert.Equal(BpfCountPath.Hash, tracer.Path);
        Assert.Equal(KvmExitTracer.LatencyPrograms.OrderBy(p => p), tracer.Object.AttachedPrograms.OrderBy(p => p));
        Assert.Equal(KvmExitTracer.LatencyPrograms.OrderBy(p => p), tracer.Object.LoadedPrograms().OrderBy(p => p));
        Assert.Empty(tracer.Snapshot().Exits);
        Assert.Throws<ArgumentException>(() => KvmExitTracer.Open(latency: false, path: BpfCountPath.TaskStorageRawTp));
    }

    [SkippableFact]
    public void DisposeLeavesNoBpfFdAndNoProgramInTheKernel()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        var before = BpfHost.BpfFds();
        var perfBefore = Requirements.OpenPerfEventFdCount(); // a tracepoint attach holds a perf_event fd per link
        var ids = new List<int>();
        using (var tracer = KvmExitTracer.Open(latency: true, maxCounts: 4096))
        {
            ids.AddRange(tracer.Object.LoadedPrograms().Select(p => BpfHost.ProgramId(tracer.Object.ProgramFd(p))));
            var during = BpfHost.BpfFds();
            Assert.True(during.Count > before.Count, "the loaded tracer holds no BPF fd");
            Assert.Contains(during.Values, t => t.Contains("bpf-prog"));
            Assert.Contains(during.Values, t => t.Contains("bpf-map"));
            Assert.True(ids.Select(BpfHost.KernelHasProgram).All(has => has != false), "a loaded program is not in the kernel");
        }

        Assert.Equal(before.Keys.OrderBy(k => k), BpfHost.BpfFds().Keys.OrderBy(k => k));
        Assert.Equal(perfBefore, Requirements.OpenPerfEventFdCount());
        // The kernel frees a program once its last fd and link are gone (after an RCU grace period).
        var gone = SpinWait.SpinUntil(() => ids.All(id => BpfHost.KernelHasProgram(id) != true), 5000);
        Assert.True(gone, $"programs {string.Join(",", ids)} still loaded after Dispose (bpftool prog show)");
    }

    [SkippableFact]
    public void AFailedAttachReleasesTheObject()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        var before = BpfHost.OpenBpfFdCount();
        using (var obj = BpfObject.Load("kvm_exits", BpfObject.LoadEmbedded("kvm_exits"), new Dictionary<string, uint> { ["counts"] = 64 }))
        {
            obj.Attach("kvm_exit");
            var error = Assert.Throws<BpfException>(() => obj.Attach("no_such_program"));
            Assert.Contains("no_such_program", error.Message);
        }

        Assert.Equal(before, BpfHost.OpenBpfFdCount());
    }

    [SkippableFact]
    public void BadObjectsAndMapNamesAreTypedErrors()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        var before = BpfHost.OpenBpfFdCount();
        var garbage = Assert.Throws<BpfException>(() => BpfObject.Load("garbage", new byte[] { 1, 2, 3, 4 }));
        Assert.StartsWith("bpf_object__open_mem,", garbage.ErrorId);
        var sized = Assert.Throws<BpfException>(() =>
            BpfObject.Load("kvm_exits", BpfObject.LoadEmbedded("kvm_exits"), new Dictionary<string, uint> { ["nope"] = 1 }));
        Assert.Contains("'nope'", sized.Message);
        Assert.Equal(before, BpfHost.OpenBpfFdCount());
    }
}
