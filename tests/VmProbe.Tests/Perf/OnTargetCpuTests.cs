using VmProbe.Perf;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Perf;

public class OnTargetCpuTests
{
    [SkippableFact]
    public void EachItemRunsOnItsCpuInOrderAndTheUnknownOnesLastWithTheAffinityGivenBack()
    {
        var (first, second) = TwoAllowedCpus();
        var items = new List<(int Id, int Cpu)>();
        for (var i = 0; i < OnTargetCpu.MinimumBatch; i++)
        {
            items.Add((i, i % 3 == 0 ? first : second));
        }

        items.Add((1000, -1));
        items.Add((1001, 1 << 20)); // no such CPU
        var ran = new List<(int Id, int OnCpu)>();
        var allowedAfter = ThreadCpus.OnOwnThread(() =>
        {
            OnTargetCpu.Run(items, item => item.Cpu, item => ran.Add((item.Id, ThreadCpus.Current())));
            return ThreadCpus.Allowed();
        });

        Assert.Equal(items.Select(i => i.Id).Order(), ran.Select(r => r.Id).Order());
        foreach (var (id, cpu) in items.Where(i => i.Cpu >= 0 && i.Cpu < 1 << 20))
        {
            Assert.Equal(cpu, ran.Single(r => r.Id == id).OnCpu);
        }

        // Grouped by CPU, in the items' order within each; the two without a usable CPU after them.
        var onFirst = items.Where(i => i.Cpu == first).Select(i => i.Id).ToList();
        var onSecond = items.Where(i => i.Cpu == second).Select(i => i.Id).ToList();
        var order = ran.Select(r => r.Id).ToList();
        Assert.True(
            order.SequenceEqual(onFirst.Concat(onSecond).Append(1000).Append(1001)) || order.SequenceEqual(onSecond.Concat(onFirst).Append(1000).Append(1001)),
            "ran in the order " + string.Join(",", order));
        Assert.Equal(ThreadCpus.OnOwnThread(ThreadCpus.Allowed), allowedAfter);
    }

    [SkippableFact]
    public void AWorkThatThrowsLeavesTheThreadWithItsAffinity()
    {
        var (first, _) = TwoAllowedCpus();
        var items = Enumerable.Range(0, OnTargetCpu.MinimumBatch).ToList();
        var allowedAfter = ThreadCpus.OnOwnThread(() =>
        {
            var threwOn = -1;
            var error = Assert.Throws<InvalidOperationException>(() => OnTargetCpu.Run(items, _ => first, i =>
            {
                threwOn = ThreadCpus.Current();
                throw new InvalidOperationException($"item {i}");
            }));
            Assert.Equal("item 0", error.Message);
            Assert.Equal(first, threwOn); // it threw while pinned
            return ThreadCpus.Allowed();
        });

        Assert.Equal(ThreadCpus.OnOwnThread(ThreadCpus.Allowed), allowedAfter);
    }

    [SkippableFact]
    public void ABatchSharedByTwoThreadsRunsEachItemOnItsCpu_EachCpusItemsInOrderOnOneThread_AndTheCallerKeepsItsAffinity()
    {
        var (first, second) = TwoAllowedCpus();
        var items = Enumerable.Range(0, 2 * OnTargetCpu.MinimumBatch).Select(i => (Id: i, Cpu: i % 3 == 0 ? first : second)).ToList();
        var ran = new List<(int Id, int OnCpu, int Thread)>();
        var (caller, allowedAfter) = ThreadCpus.OnOwnThread(() =>
        {
            OnTargetCpu.Run(items, item => item.Cpu, item =>
            {
                var onCpu = ThreadCpus.Current();
                lock (ran)
                {
                    ran.Add((item.Id, onCpu, Environment.CurrentManagedThreadId));
                }
            }, workers: 2);
            return (Environment.CurrentManagedThreadId, ThreadCpus.Allowed());
        });

        Assert.Equal(items.Select(i => i.Id), ran.Select(r => r.Id).Order());
        foreach (var (id, cpu) in items)
        {
            Assert.Equal(cpu, ran.Single(r => r.Id == id).OnCpu);
        }

        foreach (var cpu in new[] { first, second })
        {
            var onThisCpu = ran.Where(r => r.OnCpu == cpu).ToList();
            Assert.Single(onThisCpu.Select(r => r.Thread).Distinct());
            Assert.Equal(onThisCpu.Select(r => r.Id).Order(), onThisCpu.Select(r => r.Id));
        }

        Assert.Equal(2, ran.Select(r => r.Thread).Distinct().Count()); // side by side: the caller and one more thread
        Assert.Contains(caller, ran.Select(r => r.Thread));
        Assert.Equal(ThreadCpus.OnOwnThread(ThreadCpus.Allowed), allowedAfter);
    }

    [SkippableFact]
    public void WhenAnItemThrowsOnTheOtherThread_TheBatchStops_AndTheCallerGetsThatException()
    {
        var (first, second) = TwoAllowedCpus();
        var items = Enumerable.Range(0, 2 * OnTargetCpu.MinimumBatch).Select(i => (Id: i, Cpu: i % 2 == 0 ? first : second)).ToList();
        var ran = 0;
        var (error, allowedAfter) = ThreadCpus.OnOwnThread(() =>
        {
            var caller = Environment.CurrentManagedThreadId;
            var thrown = Assert.Throws<InvalidOperationException>(() => OnTargetCpu.Run(items, item => item.Cpu, item =>
            {
                Interlocked.Increment(ref ran);
                if (Environment.CurrentManagedThreadId != caller)
                {
                    throw new InvalidOperationException($"item {item.Id} on the other thread");
                }

                Thread.Sleep(5); // the caller's share (160 ms) outlasts the moment the other thread fails
            }, workers: 2));
            return (thrown, ThreadCpus.Allowed());
        });

        Assert.EndsWith("on the other thread", error.Message);
        // Each thread has half the items: had the caller not stopped, its whole half and the failed one would have run.
        Assert.True(ran <= items.Count / 2, $"{ran} items ran although one had failed");
        Assert.Equal(ThreadCpus.OnOwnThread(ThreadCpus.Allowed), allowedAfter);
    }

    [Fact]
    public void ASmallBatchRunsWhereTheThreadIsWithoutAskingForCpus()
    {
        var items = Enumerable.Range(0, OnTargetCpu.MinimumBatch - 1).ToList();
        var ran = new List<int>();
        OnTargetCpu.Run(items, _ => throw new InvalidOperationException("a small batch must not read CPUs"), ran.Add);
        Assert.Equal(items, ran);
    }

    private static (int First, int Second) TwoAllowedCpus()
    {
        var allowed = ThreadCpus.OnOwnThread(ThreadCpus.Allowed);
        Skip.If(allowed.Count < 2, $"this process may run on {allowed.Count} CPU: running on a CPU cannot be told from not moving");
        return (allowed[^1], allowed[0]); // the items alternate between them: each CPU's must still run together
    }
}
