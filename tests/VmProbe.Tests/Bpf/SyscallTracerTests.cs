using VmProbe.Bpf;
using VmProbe.Native;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Bpf;

/// <summary>
/// The aggregation of kvm_exits (programs/agg.h) end to end on raw_syscalls, which fire here: a thread makes a known
/// number of geteuid calls; the counts, the enter -> exit latency histogram and the exit cleanup are checked.
/// </summary>
[Collection("bpf")]
public class SyscallTracerTests
{
    private const int GetEUid = 107; // x86-64 __NR_geteuid
    private const int Calls = 2000;

    [SkippableTheory]
    [InlineData(BpfCountPath.Hash)]
    [InlineData(BpfCountPath.TaskStorage)]
    [InlineData(BpfCountPath.TaskStorageRawTp)]
    public void CountsAndTimesAThreadsSyscallsThenFoldsTheThreadAwayAtExit(BpfCountPath path)
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        Skip.IfNot(Environment.Is64BitProcess && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture
            == System.Runtime.InteropServices.Architecture.X64, "syscall numbers here are x86-64's");
        var pid = Environment.ProcessId;
        using var tracer = SyscallTracer.Open(latency: true, onlyTgid: pid, maxCounts: 16384, path: path);
        Assert.Equal(path, tracer.Path);
        var tid = 0;
        using var done = new ManualResetEventSlim();
        using var checkedIn = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            tid = BpfHost.CurrentTid();
            for (var i = 0; i < Calls; i++)
            {
                Interop.Libc.GetEUid();
            }

            checkedIn.Set();
            done.Wait();
        });
        thread.Start();
        Assert.True(checkedIn.Wait(30_000), "the syscall thread did not finish");

        var snapshot = tracer.Snapshot();
        var mine = snapshot.Counts.Where(c => c.Tgid == pid && c.Tid == tid && c.Id == GetEUid).ToList();
        Assert.True(mine.Count == 1, $"expected one count key for tid {tid} geteuid, found {mine.Count}");
        Assert.InRange(mine[0].Count, (ulong)Calls, (ulong)Calls + 100); // + the runtime's own, if any
        Assert.DoesNotContain(snapshot.Counts, c => c.Tgid != pid); // the filter keeps other processes out

        var latency = Assert.Single(snapshot.Latencies, l => l.Tgid == pid && l.Id == GetEUid).Histogram;
        Assert.True(latency.Count >= Calls, $"latency count {latency.Count} < {Calls}");
        Assert.Equal(latency.Count, latency.Buckets.Aggregate(0UL, (a, b) => a + b));
        var meanNs = latency.SumNs / latency.Count;
        Assert.InRange(meanNs, 10UL, 1_000_000UL); // a geteuid takes ns to us, never ms on average
        var fast = latency.Buckets.Take(21).Aggregate(0UL, (a, b) => a + b); // below 2^21 ns = 2 ms
        Assert.True(fast * 10 >= latency.Count * 9, $"fewer than 90% of geteuid calls under 2 ms: {string.Join(",", latency.Buckets)}");

        done.Set();
        thread.Join();
        Assert.True(Requirements.WaitUntilThreadGone(tid), $"thread {tid} still listed");
        var after = tracer.Snapshot();
        Assert.DoesNotContain(after.Counts, c => c.Tid == tid);
        var folded = Assert.Single(after.Counts, c => c.Tgid == pid && c.Tid == 0 && c.Id == GetEUid);
        Assert.True(folded.Count >= Calls, $"the exited thread's {Calls} calls were not folded into tid 0: {folded.Count}");
    }

    [SkippableFact]
    public void NoTaskWalkUntilATrackedThreadCounted()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        // A filter no process matches: no block is ever created, so the snapshots must not walk the host's tasks.
        using (var idle = SyscallTracer.Open(latency: false, onlyTgid: int.MaxValue, maxCounts: 1024, path: BpfCountPath.TaskStorage))
        {
            Interop.Libc.GetEUid();
            idle.Snapshot();
            idle.Snapshot();
            Assert.Equal(0, idle.ThreadWalks);
        }

        using var tracer = SyscallTracer.Open(latency: false, onlyTgid: Environment.ProcessId, maxCounts: 1024, path: BpfCountPath.TaskStorage);
        var tid = BpfHost.CurrentTid();
        Interop.Libc.GetEUid();
        var snapshot = tracer.Snapshot();
        Assert.Equal(1, tracer.ThreadWalks);
        Assert.Contains(snapshot.Counts, c => c.Tid == tid && c.Id == GetEUid && c.Count >= 1);
    }

    [SkippableTheory]
    [InlineData(BpfCountPath.Hash)]
    [InlineData(BpfCountPath.TaskStorageRawTp)]
    public void ForgetDropsAProcesssKeys(BpfCountPath path)
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        var pid = Environment.ProcessId;
        using var tracer = SyscallTracer.Open(latency: true, onlyTgid: pid, maxCounts: 16384, path: path);
        var tid = BpfHost.CurrentTid();
        Interop.Libc.GetEUid();
        Assert.Contains(tracer.Snapshot().Counts, c => c.Tgid == pid && c.Tid == tid && c.Id == GetEUid);
        Assert.Contains(tracer.Snapshot().Latencies, l => l.Tgid == pid && l.Id == GetEUid);
        Assert.True(tracer.Forget(pid) > 0);
        // This process keeps running (and making other syscalls), but makes no geteuid after the Forget.
        var snapshot = tracer.Snapshot();
        Assert.DoesNotContain(snapshot.Counts, c => c.Tgid == pid && c.Id == GetEUid);
        Assert.DoesNotContain(snapshot.Latencies, l => l.Tgid == pid && l.Id == GetEUid);
    }

    [SkippableTheory]
    [InlineData(BpfCountPath.Hash)]
    [InlineData(BpfCountPath.TaskStorage)]
    public void AnExitedProcessIsDroppedByTheKernel(BpfCountPath path)
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        var sleep = Requirements.FindCommand("sleep");
        Skip.If(sleep is null, "no sleep command");
        using var tracer = SyscallTracer.Open(latency: false, onlyTgid: 0, maxCounts: 65536, path: path);
        using var child = System.Diagnostics.Process.Start(sleep!, "30")!;
        var childPid = child.Id;
        Assert.True(SpinWait.SpinUntil(() => tracer.Snapshot().Counts.Any(c => c.Tgid == childPid), 5000), "the child's syscalls were not counted");
        child.Kill();
        child.WaitForExit();
        Assert.True(SpinWait.SpinUntil(() => !tracer.Snapshot().Counts.Any(c => c.Tgid == childPid), 5000),
            "the exited child's keys are still in the counts map");
    }

    [SkippableFact]
    public void TheDefaultPathIsTaskStorageAndItsHotPathLeavesTheHashEmpty()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        var pid = Environment.ProcessId;
        using var tracer = SyscallTracer.Open(latency: false, onlyTgid: pid, maxCounts: 16384);
        Assert.Equal(BpfCountPath.TaskStorage, tracer.Path); // this kernel (6.x) takes task storage in tp/ programs
        Assert.Contains("sys_enter_ts", tracer.Object.AttachedPrograms);
        Assert.DoesNotContain("sys_enter", tracer.Object.AttachedPrograms);
        var tid = BpfHost.CurrentTid();
        for (var i = 0; i < 10; i++)
        {
            Interop.Libc.GetEUid();
        }

        Assert.Contains(tracer.Snapshot().Counts, c => c.Tgid == pid && c.Tid == tid && c.Id == GetEUid && c.Count >= 10);
        // The counts came from the threads' blocks through the iterator: the hash has no key of a live thread's slot.
        var hashed = new List<KeyValuePair<AggCountKey, ulong>>();
        tracer.Object.Map("counts").ReadAll(hashed);
        Assert.DoesNotContain(hashed, kv => kv.Key.Tid == (uint)tid && kv.Key.F2 == GetEUid);
    }

    [SkippableFact]
    public void AHashLoadLeavesTheTaskStorageProgramsOut()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        using var tracer = SyscallTracer.Open(latency: true, onlyTgid: Environment.ProcessId, maxCounts: 1024, path: BpfCountPath.Hash);
        var loaded = tracer.Object.LoadedPrograms();
        Assert.Equal(new[] { "process_exit", "sys_enter_latency", "sys_exit" }, loaded.OrderBy(p => p, StringComparer.Ordinal)); // what latency mode attaches
        Assert.DoesNotContain(AggregationMaps.TaskStorageItems[0], tracer.Object.AttachedPrograms);
    }
}
