using System.Runtime.InteropServices;
using VmProbe.Bpf;
using VmProbe.Procfs;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Bpf;

/// <summary>
/// programs/tasks.bpf.c through <see cref="TaskIterator"/>: its records of live threads are what procfs says about
/// them, only the processes in its map are written, and the record layout is the C struct's.
/// </summary>
[Collection("bpf")]
public class TaskIteratorTests
{
    [Fact]
    public void TheRecordIsTheCStructsLayout()
    {
        Assert.Equal(TaskRecord.Size, Marshal.SizeOf<TaskRecord>());
        Assert.Equal(8, (int)Marshal.OffsetOf<TaskRecord>(nameof(TaskRecord.RunNanoseconds)));
        Assert.Equal(56, (int)Marshal.OffsetOf<TaskRecord>(nameof(TaskRecord.StartNanoseconds)));
        Assert.Equal(80, (int)Marshal.OffsetOf<TaskRecord>(nameof(TaskRecord.Comm)));
        Assert.Equal(96, (int)Marshal.OffsetOf<TaskRecord>(nameof(TaskRecord.Kind)));
        Assert.Equal(104, TaskRecord.Size); // struct task_record: 2 x u32, 9 x u64, char[16], 2 x u32
        Assert.Equal(4, Marshal.SizeOf(Enum.GetUnderlyingType(typeof(TaskRecordKind))));
    }

    /// <summary>
    /// The walk names QEMU by the executable's basename exactly as QemuCommandLine.IsQemuExecutable does: leaders not in
    /// the map named qemu-system-*, qemu-kvm or kvm are candidates (with their start time), near misses are not, and a
    /// process in the map gives thread records instead.
    /// </summary>
    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void LeadersNamedLikeQemuAreCandidates_ExactlyAsTheUserSpaceCheckNamesThem(bool everyTask)
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        var bash = Requirements.FindCommand("bash");
        Skip.If(bash is null, "no bash executable");
        var names = new[] { "qemu-system-x86_64", "qemu-system-aarch64", "qemu-kvm", "kvm", "qemu-system-", "qemu-kvm2", "xkvm", "kvm-ok", "qemu-system" };
        var dir = Directory.CreateTempSubdirectory("vmprobe-cand-");
        var children = new Dictionary<string, System.Diagnostics.Process>();
        try
        {
            foreach (var name in names)
            {
                var exe = Path.Combine(dir.FullName, name);
                File.Copy(bash!, exe);
                var psi = new System.Diagnostics.ProcessStartInfo(exe) { UseShellExecute = false };
                psi.ArgumentList.Add("-c");
                psi.ArgumentList.Add("sleep 60; :");
                children[name] = System.Diagnostics.Process.Start(psi)!;
            }

            using var proc = new ProcFs();
            using var iterator = TaskIterator.Open(everyTask: everyTask);
            var tracked = children["kvm"].Id;
            iterator.SetProcesses(new[] { tracked });
            iterator.Read();

            Assert.Equal(0, iterator.UnreadableCount);
            var candidates = iterator.Candidates.ToArray();
            foreach (var (name, child) in children)
            {
                var expected = QemuCommandLine.IsQemuExecutable(proc.ReadExecutable(child.Id)) && child.Id != tracked;
                var found = candidates.Where(c => c.Tgid == (uint)child.Id).ToArray();
                Assert.True(expected == (found.Length == 1), $"{name}: candidate {found.Length == 1}, user space says QEMU {expected}");
                if (expected)
                {
                    Assert.Equal(TaskRecordKind.Candidate, found[0].Kind);
                    Assert.Equal((uint)child.Id, found[0].Tid);
                    Assert.True(proc.TryReadProcessStat(child.Id, out var stat));
                    Assert.Equal(stat.StartTimeTicks, found[0].StartNanoseconds / (ulong)(1e9 / ProcFs.ClockTicksPerSecond));
                }
            }

            Assert.Equal(4, names.Count(n => QemuCommandLine.IsQemuExecutable(n))); // the matching names above
            Assert.DoesNotContain(candidates, c => c.Tgid == (uint)tracked); // in the map: threads, not a candidate
            Assert.Contains(iterator.Threads(tracked).ToArray(), r => r.Tid == (uint)tracked && r.Kind == TaskRecordKind.Thread);
            Assert.DoesNotContain(candidates, c => c.Tgid == (uint)Environment.ProcessId);
        }
        finally
        {
            foreach (var child in children.Values)
            {
                child.Kill();
                child.WaitForExit();
                child.Dispose();
            }

            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void TheConversionToProcfsUnitsIsTheKernelsDivision()
    {
        // nsec_to_clock_t with USER_HZ 100: 10,000,000 ns per tick, truncated.
        var record = new TaskRecord { GuestNanoseconds = 29_999_999, StartNanoseconds = 1_305_601_234_567, MinorFaults = 7 };
        var stat = TaskIteratorSampler.ToTaskStat(record, 10_000_000);
        Assert.Equal(2UL, stat.GuestTicks);
        Assert.Equal(130_560UL, stat.StartTimeTicks);
        Assert.Equal(7UL, stat.MinorFaults);
    }

    /// <summary>Threads blocked on an event do not run: their schedstat and stat stay put, so both reads must agree exactly.</summary>
    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void RecordsOfLiveThreadsAreWhatProcfsSays(bool everyTask)
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        var pid = Environment.ProcessId;
        using var parked = new ParkedThreads(3);
        using var proc = new ProcFs();
        using var iterator = TaskIterator.Open(everyTask: everyTask);
        iterator.SetProcesses(new[] { pid });

        var before = parked.Tids.ToDictionary(t => t, t => ReadProcfs(proc, pid, t));
        var count = iterator.Read();
        var after = parked.Tids.ToDictionary(t => t, t => ReadProcfs(proc, pid, t));

        Assert.True(count >= 4, $"only {count} records for this process");
        Assert.All(iterator.All.ToArray(), r => Assert.Equal((uint)pid, r.Tgid)); // the map keeps other processes out
        var records = iterator.Threads(pid).ToArray();
        Assert.Equal(records.Length, count);
        Assert.Contains(records, r => r.Tid == (uint)pid); // the main thread
        foreach (var tid in parked.Tids)
        {
            Assert.Equal(before[tid], after[tid]); // parked: nothing moved while we read
            var record = Assert.Single(records, r => r.Tid == (uint)tid);
            var (sched, stat, comm) = before[tid];
            Assert.Equal(sched, TaskIteratorSampler.ToSchedStat(record));
            var fromIterator = TaskIteratorSampler.ToTaskStat(record, (ulong)(1e9 / ProcFs.ClockTicksPerSecond));
            Assert.Equal(stat.MinorFaults, fromIterator.MinorFaults);
            Assert.Equal(stat.MajorFaults, fromIterator.MajorFaults);
            Assert.Equal(stat.GuestTicks, fromIterator.GuestTicks);
            Assert.Equal(stat.StartTimeTicks, fromIterator.StartTimeTicks);
            Assert.Equal(comm, record.CommText());
            Assert.True(sched.RunNanoseconds > 0 && sched.Timeslices > 0, $"thread {tid} never ran?");
        }
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void OnlyTheProcessesInTheMapAreWrittenAndAFullMapRefusesMore(bool everyTask)
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        var pid = Environment.ProcessId;
        using var other = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            using var iterator = TaskIterator.Open(capacity: 1, everyTask: everyTask);
            Assert.Equal(1U, iterator.Capacity);

            iterator.SetProcesses(new[] { pid, other.Id }); // room for the first only
            Assert.True(iterator.Tracks(pid));
            Assert.False(iterator.Tracks(other.Id));
            iterator.Read();
            Assert.True(iterator.Threads(pid).Length > 0);
            Assert.Equal(0, iterator.Threads(other.Id).Length);

            iterator.SetProcesses(new[] { other.Id }); // the change is written: this process out, the other in
            Assert.False(iterator.Tracks(pid));
            iterator.Read();
            Assert.Equal(0, iterator.Threads(pid).Length);
            var record = Assert.Single(iterator.All.ToArray());
            Assert.Equal((uint)other.Id, record.Tgid);
            Assert.Equal((uint)other.Id, record.Tid);
            Assert.Equal("sleep", record.CommText());

            iterator.SetProcesses(Array.Empty<int>());
            Assert.Equal(0, iterator.Read());
            Assert.Equal(0, iterator.LastReadBytes);
        }
        finally
        {
            other.Kill();
            other.WaitForExit();
        }
    }

    internal static (SchedStat Sched, TaskStat Stat, string Comm) ReadProcfs(ProcFs proc, int pid, int tid)
    {
        Assert.True(proc.TryReadTaskSchedStat(pid, tid, out var sched), $"schedstat of {pid}/{tid}");
        Assert.True(proc.TryReadTaskStat(pid, tid, out var stat), $"stat of {pid}/{tid}");
        return (sched, stat, File.ReadAllText($"/proc/{pid}/task/{tid}/comm").TrimEnd('\n'));
    }
}

/// <summary>Threads of this process that ran a little (so they have run time, slices and faults) and now wait on an event.</summary>
internal sealed class ParkedThreads : IDisposable
{
    private readonly ManualResetEventSlim _release = new();
    private readonly List<Thread> _threads = new();

    public ParkedThreads(int count)
    {
        using var ready = new CountdownEvent(count);
        var tids = new int[count];
        for (var i = 0; i < count; i++)
        {
            var index = i;
            var thread = new Thread(() =>
            {
                tids[index] = BpfHost.CurrentTid();
                var sum = 0L;
                for (var n = 0; n < 200_000; n++)
                {
                    sum += n ^ index;
                }

                GC.KeepAlive(new byte[64 * 1024 * (1 + (sum & 1))]); // touch some pages: minor faults
                ready.Signal();
                _release.Wait();
            }) { Name = $"parked{i}", IsBackground = true };
            thread.Start();
            _threads.Add(thread);
        }

        Assert.True(ready.Wait(30_000), "parked threads did not start");
        Thread.Sleep(50); // let each reach its wait
        Tids = tids;
    }

    public IReadOnlyList<int> Tids { get; }

    public void Dispose()
    {
        _release.Set();
        foreach (var thread in _threads)
        {
            thread.Join();
        }

        _release.Dispose();
    }
}
