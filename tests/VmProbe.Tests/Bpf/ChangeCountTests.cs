using System.Diagnostics;
using VmProbe.Bpf;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Bpf;

/// <summary>
/// The change count of agg.h (issue 14): a snapshot reads the maps only when a program changed them since the last
/// read. On the self-test object (raw_syscalls fire here) a blocked <c>cat</c> leaves the count still and its events,
/// and its exit, move it; on kvm_exits (loads here, never fires) a second snapshot makes no map walk and no bpf() call.
/// </summary>
[Collection("bpf")]
public class ChangeCountTests
{
    private const int Read = 0; // x86-64 __NR_read
    private const int BpfCall = 321; // x86-64 __NR_bpf

    [SkippableTheory]
    [InlineData(BpfCountPath.Hash)]
    [InlineData(BpfCountPath.TaskStorage)]
    public void AnIdleProcessLeavesTheCountStillItsEventsAndExitMoveIt(BpfCountPath path)
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        Skip.IfNot(System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64,
            "syscall numbers here are x86-64's");
        var cat = Requirements.FindCommand("cat");
        Skip.If(cat is null, "no cat command");
        using var child = Process.Start(new ProcessStartInfo(cat!) { RedirectStandardInput = true, RedirectStandardOutput = true })!;
        try
        {
            using var tracer = SyscallTracer.Open(latency: false, onlyTgid: child.Id, maxCounts: 16384, path: path);
            Assert.True(tracer.ChangesMapped, "the change count was not mmapped (read with a syscall instead)");

            // cat blocks in read(0): once a snapshot no longer walks, nothing of it changes.
            Assert.True(SpinWait.SpinUntil(() => Walked(tracer) == 0, 5000), "snapshots kept walking while cat was blocked");
            var idle = tracer.Snapshot();
            var changes = tracer.Changes;
            var walks = tracer.Walks;
            Assert.Same(idle, tracer.Snapshot());
            Assert.Equal(walks, tracer.Walks);
            Assert.Equal(changes, tracer.Changes);
            var reads = Reads(idle, child.Id);

            // One line: cat reads it, writes it, reads again. A later snapshot must see those reads.
            child.StandardInput.WriteLine("x");
            child.StandardInput.Flush();
            Assert.True(SpinWait.SpinUntil(() => Reads(tracer.Snapshot(), child.Id) > reads, 5000), "cat's read after the line was not seen");
            Assert.True(tracer.Changes > changes, $"the change count stayed at {changes} after cat's syscalls");
            Assert.True(tracer.Walks > walks);

            // Its exit changes the maps too (the kernel drops the process's keys): the count moves, a snapshot shows it.
            child.Kill();
            child.WaitForExit();
            Assert.True(SpinWait.SpinUntil(() => !tracer.Snapshot().Counts.Any(c => c.Tgid == child.Id), 5000),
                "the exited cat's keys are still in the snapshot");
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill();
            }
        }
    }

    [SkippableTheory]
    [InlineData(BpfCountPath.Hash)]
    [InlineData(BpfCountPath.TaskStorage)]
    public void ASecondKvmSnapshotMakesNoMapWalkAndNoBpfCall(BpfCountPath path)
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        Skip.IfNot(System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64,
            "syscall numbers here are x86-64's");
        using var kvm = KvmExitTracer.Open(latency: false, maxCounts: 4096, path: path);
        // This thread's bpf() calls, counted per thread by the self-test (task storage: exact per thread).
        using var syscalls = SyscallTracer.Open(latency: false, onlyTgid: Environment.ProcessId, maxCounts: 16384, path: BpfCountPath.TaskStorage);
        var tid = 0;
        KvmExitSnapshot? first = null, later = null;
        using var firstDone = new ManualResetEventSlim();
        using var goOn = new ManualResetEventSlim();
        using var laterDone = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            tid = BpfHost.CurrentTid();
            first = kvm.Snapshot(); // the first reads every map
            firstDone.Set();
            goOn.Wait();
            for (var i = 0; i < 5; i++)
            {
                later = kvm.Snapshot();
            }

            laterDone.Set();
            release.Wait(); // alive until counted: an exited thread's counts fold into tid 0
        });
        thread.Start();
        Assert.True(firstDone.Wait(30_000), "the first snapshot did not finish");
        var afterFirst = BpfCalls(syscalls.Snapshot(), tid);
        Assert.True(afterFirst > 0, "the first snapshot made no bpf() call: the count below would prove nothing");
        goOn.Set();
        Assert.True(laterDone.Wait(30_000), "the later snapshots did not finish");
        var afterLater = BpfCalls(syscalls.Snapshot(), tid);
        release.Set();
        thread.Join();

        Assert.Equal(0, afterLater - afterFirst);
        Assert.Equal(1, kvm.Walks);
        Assert.Same(first, later);
    }

    [SkippableFact]
    public void CountsModeSizesTheLatencyMapsToOneEntry()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        using (var counts = KvmExitTracer.Open(latency: false, maxCounts: 4096, maxHistograms: 512))
        {
            Assert.Equal(1u, counts.Object.Map("latency").MaxEntries);
            Assert.Equal(1u, counts.Object.Map("pending").MaxEntries);
            Assert.Equal(4096u, counts.Object.Map("counts").MaxEntries);
        }

        using var latency = KvmExitTracer.Open(latency: true, maxCounts: 4096, maxHistograms: 512);
        Assert.Equal(512u, latency.Object.Map("latency").MaxEntries);
        Assert.Equal(65536u, latency.Object.Map("pending").MaxEntries); // agg.h's AGG_MAX_THREADS
    }

    // Whether this snapshot walked the maps (1) or reused the last (0).
    private static long Walked(SyscallTracer tracer)
    {
        var before = tracer.Walks;
        tracer.Snapshot();
        return tracer.Walks - before;
    }

    private static ulong Reads(SyscallSnapshot snapshot, int tgid) =>
        snapshot.Counts.Where(c => c.Tgid == tgid && c.Id == Read).Aggregate(0UL, (sum, c) => sum + c.Count);

    private static long BpfCalls(SyscallSnapshot snapshot, int tid) =>
        (long)snapshot.Counts.Where(c => c.Tid == tid && c.Id == BpfCall).Aggregate(0UL, (sum, c) => sum + c.Count);
}
