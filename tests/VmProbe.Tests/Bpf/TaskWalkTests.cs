using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VmProbe.Bpf;
using VmProbe.Native;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Bpf;

/// <summary>
/// The walk of tracked processes (tasks.bpf.c's dump_tracked, Linux 6.7+): chosen where the kernel has open-coded task
/// iterators, split into runs of at most 256 records that together give each thread once, and the same records and
/// candidates as the walk of every task.
/// </summary>
[Collection("bpf")]
public class TaskWalkTests
{
    [Fact]
    public unsafe void TheStructsMatchTheCAndLibbpf()
    {
        Assert.Equal(32, sizeof(TaskWalkHeader)); // struct walk: 8 x u32 before tgids[]
        Assert.Equal(12, (int)Marshal.OffsetOf<TaskWalkHeader>(nameof(TaskWalkHeader.Leaders)));
        Assert.Equal(20, (int)Marshal.OffsetOf<TaskWalkHeader>(nameof(TaskWalkHeader.Found)));
        Assert.Equal(28, (int)Marshal.OffsetOf<TaskWalkHeader>(nameof(TaskWalkHeader.Execs)));
        Assert.Equal(24, sizeof(BpfIterAttachOptions)); // size_t sz; union bpf_iter_link_info *; __u32 (+ padding)
        Assert.Equal(16, (int)Marshal.OffsetOf<BpfIterAttachOptions>(nameof(BpfIterAttachOptions.LinkInfoLength)));
        Assert.Equal(16, sizeof(BpfIterTaskLinkInfo)); // union bpf_iter_link_info: its cgroup member is 16 bytes
        Assert.Equal(4, (int)Marshal.OffsetOf<BpfIterTaskLinkInfo>(nameof(BpfIterTaskLinkInfo.Pid)));
        Assert.Equal(8, (int)Marshal.OffsetOf<BpfIterTaskLinkInfo>(nameof(BpfIterTaskLinkInfo.PidFd)));
        Assert.Equal(3U, (uint)TaskRecordKind.End);
    }

    [SkippableFact]
    public void TheWalkOfTrackedProcessesIsChosenWhereTheKernelHasOpenCodedTaskIterators()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        Skip.If(Environment.OSVersion.Version < new Version(6, 7), $"Linux {Environment.OSVersion.Version} has no open-coded task iterators (6.7+): the walk of every task is used");
        using var iterator = TaskIterator.Open();
        Assert.False(iterator.WalksEveryTask, iterator.Description);
        Assert.Equal(new[] { TaskWalk.ProgramName, TaskWalk.ExecProgramName }, iterator.Object.LoadedPrograms());
        var walk = iterator.Object.Map(TaskWalk.MapName);
        Assert.Equal(Unsafe.SizeOf<TaskWalkHeader>() + (4 * TaskWalk.Capacity), walk.ValueSize);

        using var everyTask = TaskIterator.Open(everyTask: true);
        Assert.True(everyTask.WalksEveryTask);
        Assert.Equal(new[] { TaskIterator.ProgramName }, everyTask.Object.LoadedPrograms());
    }

    /// <summary>
    /// 300 parked threads here and 40 one-thread children are more than a run holds: the runs together give every thread
    /// exactly once, the same threads the walk of every task gives (candidates: the theory in TaskIteratorTests).
    /// </summary>
    [SkippableFact]
    public void ManyThreadsSpanRunsAndEachIsWrittenOnce_AsTheWalkOfEveryTaskWritesThem()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        Skip.If(Environment.OSVersion.Version < new Version(6, 7), "no open-coded task iterators before Linux 6.7");
        var children = Enumerable.Range(0, 40)
            .Select(_ => System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sleep", "60") { UseShellExecute = false })!)
            .ToList();
        try
        {
            using var parked = new ParkedThreads(300);
            var pids = children.Select(c => c.Id).Prepend(Environment.ProcessId).ToArray();
            using var tracked = TaskIterator.Open();
            using var everyTask = TaskIterator.Open(everyTask: true);
            tracked.SetProcesses(pids);
            everyTask.SetProcesses(pids);

            var count = tracked.Read();
            everyTask.Read();

            Assert.True(tracked.LastReadRuns >= 2, $"{count} records in {tracked.LastReadRuns} run(s)");
            var keys = tracked.All.ToArray().Select(r => (r.Tgid, r.Tid)).ToList();
            foreach (var tid in parked.Tids)
            {
                Assert.Contains(((uint)Environment.ProcessId, (uint)tid), keys);
            }

            foreach (var child in children)
            {
                Assert.Equal((uint)child.Id, Assert.Single(tracked.Threads(child.Id).ToArray()).Tid);
            }

            // Threads of this process may start or end between the two reads (the test host's pool): compare the others.
            var parkedOrChildren = parked.Tids.Select(t => (uint)t).Concat(children.Select(c => (uint)c.Id)).ToHashSet();
            Assert.Equal(
                everyTask.All.ToArray().Where(r => parkedOrChildren.Contains(r.Tid)).Select(r => (r.Tgid, r.Tid, r.StartNanoseconds)),
                tracked.All.ToArray().Where(r => parkedOrChildren.Contains(r.Tid)).Select(r => (r.Tgid, r.Tid, r.StartNanoseconds)));
            Assert.DoesNotContain(tracked.Candidates.ToArray(), c => pids.Contains((int)c.Tgid)); // tracked: threads, not candidates
        }
        finally
        {
            foreach (var child in children)
            {
                child.Kill();
                child.WaitForExit();
                child.Dispose();
            }
        }
    }

    /// <summary>
    /// The leaders' pass is made after an exec of a program named like QEMU and every LeaderPassEvery reads, not on every
    /// read; between passes the last pass' candidates stand, but for those tracked since.
    /// </summary>
    [SkippableFact]
    public void TheLeadersPassFollowsQemuExecsAndCandidatesStandBetweenPasses()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        Skip.If(Environment.OSVersion.Version < new Version(6, 7), "no open-coded task iterators before Linux 6.7");
        var bash = Requirements.FindCommand("bash");
        Skip.If(bash is null, "no bash executable");
        using var iterator = TaskIterator.Open();
        iterator.Read();
        Assert.True(iterator.LastReadPassedLeaders, "the first read looks at every leader");

        // Other tests may exec QEMU-named programs meanwhile: a read without the pass must show within a few.
        var skipped = false;
        for (var i = 0; i < 5 && !skipped; i++)
        {
            iterator.Read();
            skipped = !iterator.LastReadPassedLeaders;
        }

        Assert.True(skipped, "every read made the leaders' pass though no QEMU was exec'd");

        var dir = Directory.CreateTempSubdirectory("vmprobe-exec-");
        var exe = Path.Combine(dir.FullName, "qemu-system-walktest");
        File.Copy(bash!, exe);
        var psi = new System.Diagnostics.ProcessStartInfo(exe) { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("sleep 60; :");
        using var child = System.Diagnostics.Process.Start(psi)!;
        try
        {
            // Process.Start returns once the exec closed its CLOEXEC pipe (begin_new_exec), before sched_process_exec
            // fires at the exec's end: a read in between has no exec to see yet (failed once in CI under load).
            var passed = false;
            for (var deadline = Environment.TickCount64 + 5_000; !passed && Environment.TickCount64 < deadline;)
            {
                iterator.Read();
                passed = iterator.LastReadPassedLeaders;
                if (!passed)
                {
                    Thread.Sleep(10);
                }
            }

            Assert.True(passed, "an exec of a QEMU-named program did not bring the pass");
            Assert.Contains(iterator.Candidates.ToArray(), c => c.Tgid == (uint)child.Id);

            iterator.SetProcesses(new[] { child.Id });
            for (var i = 0; i < 5; i++)
            {
                iterator.Read();
                Assert.DoesNotContain(iterator.Candidates.ToArray(), c => c.Tgid == (uint)child.Id);
                Assert.Equal((uint)child.Id, Assert.Single(iterator.Threads(child.Id).ToArray()).Tid);
            }

            iterator.SetProcesses(Array.Empty<int>());
            var passes = 0;
            for (var i = 0; i < TaskWalk.LeaderPassEvery + 1; i++)
            {
                iterator.Read();
                passes += iterator.LastReadPassedLeaders ? 1 : 0;
            }

            Assert.True(passes >= 1, $"no leaders' pass in {TaskWalk.LeaderPassEvery + 1} reads");
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// A run stops at 256 records and the next resumes after the thread written last. When that thread exited in between,
    /// the process is written again from its first thread: every other thread is still there.
    /// </summary>
    [SkippableFact]
    public void ARunResumedAfterAThreadThatExitedStillWritesEveryOther()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        using var iterator = TaskIterator.Open();
        Skip.If(iterator.TrackedWalk is null, "the walk of tracked processes does not load here (Linux 6.7+)");
        var (walk, link) = iterator.TrackedWalk!.Value;
        var threads = new List<(Thread Thread, ManualResetEventSlim Release, int[] Tid)>();
        using var ready = new CountdownEvent(300);
        for (var i = 0; i < 300; i++)
        {
            var release = new ManualResetEventSlim();
            var tid = new int[1];
            var thread = new Thread(() =>
            {
                tid[0] = BpfHost.CurrentTid();
                ready.Signal();
                release.Wait();
            }) { IsBackground = true };
            thread.Start();
            threads.Add((thread, release, tid));
        }

        try
        {
            Assert.True(ready.Wait(30_000), "threads did not start");
            iterator.SetProcesses(new[] { Environment.ProcessId });
            var buffer = new byte[4096];
            var length = walk.RunOnce(link, ref buffer, 0, 0, 0, "test", out var end);
            Assert.Equal(0U, end.Reserved); // more threads than a run holds: not done
            Assert.Equal(256 * TaskRecord.Size, length);

            var exiting = threads.SingleOrDefault(t => t.Tid[0] == (int)end.Tid);
            Assert.True(exiting.Thread is not null, $"thread {end.Tid}, written last, is not one this test started");
            exiting.Release.Set();
            exiting.Thread!.Join();
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (Directory.Exists($"/proc/self/task/{end.Tid}") && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(10);
            }

            length = walk.ReadFrom(link, ref buffer, length, end.Tgid, end.Tid, "test");
            var written = MemoryMarshal.Cast<byte, TaskRecord>(buffer.AsSpan(0, length)).ToArray().Select(r => (int)r.Tid).ToHashSet();
            foreach (var (_, _, tid) in threads.Where(t => t.Tid[0] != (int)end.Tid))
            {
                Assert.Contains(tid[0], written);
            }
        }
        finally
        {
            foreach (var (thread, release, _) in threads)
            {
                release.Set();
                thread.Join();
                release.Dispose();
            }
        }
    }
}
