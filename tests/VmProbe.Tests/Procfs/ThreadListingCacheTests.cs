using VmProbe.Procfs;
using Xunit;
using VmProbe.Composition;

namespace VmProbe.Tests.Procfs;

/// <summary>One /proc/PID/task listing per domain per cycle, shared by the discovery and the sources.</summary>
public class ThreadListingCacheTests
{
    [Fact]
    public void TryList_ListsOncePerCycle_ThenServesTheSameListing()
    {
        using var proc = new ProcFs();
        var cache = new ThreadListingCache();
        var pid = Environment.ProcessId;
        var first = new List<int>();
        var second = new List<int> { -1 };

        cache.BeginCycle();
        Assert.True(cache.TryList(proc, pid, first));
        Assert.Equal(0, cache.Hits);
        Assert.Contains(pid, first); // the main thread's id is the pid
        Assert.True(cache.TryList(proc, pid, second));
        Assert.Equal(1, cache.Hits);
        Assert.Equal(first, second);

        // A new cycle does not serve the old listing: it lists again, then serves that.
        cache.BeginCycle();
        Assert.False(cache.TryGet(proc, pid, second));
        Assert.True(cache.TryList(proc, pid, second));
        Assert.Equal(1, cache.Hits);
    }

    [Fact]
    public void Store_IsServedOnlyForTheSameProcTree_AndAGonePidIsNotListed()
    {
        using var proc = new ProcFs();
        var fixtureRoot = Directory.CreateTempSubdirectory("vmprobe-listing-").FullName;
        try
        {
            using var otherTree = new ProcFs(fixtureRoot);
            var cache = new ThreadListingCache();
            var into = new List<int>();
            cache.BeginCycle();
            cache.Store(proc, 4242, new[] { 4242, 4243 });
            Assert.True(cache.TryGet(proc, 4242, into));
            Assert.Equal(new[] { 4242, 4243 }, into);
            Assert.False(cache.TryGet(otherTree, 4242, into)); // pids of another root are not the same processes
            Assert.False(cache.TryList(otherTree, 4242, into)); // and that tree has no such process
        }
        finally
        {
            Directory.Delete(fixtureRoot, recursive: true);
        }
    }

    [Fact]
    public void TryGetComm_ServesTheNamesStoredThisCycle_UpToTheirNul()
    {
        using var proc = new ProcFs();
        var cache = new ThreadListingCache();
        var comms = new byte[2 * ThreadListingCache.CommBytes];
        "qemu-kvm"u8.CopyTo(comms);
        "CPU 0/KVM"u8.CopyTo(comms.AsSpan(ThreadListingCache.CommBytes));
        cache.BeginCycle();
        cache.Store(proc.ProcDirectory, 4242, new[] { 4242, 4251 }, new ulong[2], comms);
        cache.Store(proc, 5353, new[] { 5353 }); // a listing without names

        Assert.True(cache.TryGetComm(proc, 4242, 4251, out var comm));
        Assert.Equal("CPU 0/KVM", System.Text.Encoding.UTF8.GetString(comm));
        Assert.True(cache.TryGetComm(proc, 4242, 4242, out comm));
        Assert.Equal("qemu-kvm", System.Text.Encoding.UTF8.GetString(comm));
        Assert.False(cache.TryGetComm(proc, 4242, 4299, out _)); // not in the listing
        Assert.False(cache.TryGetComm(proc, 5353, 5353, out _));

        // Names are this cycle's only; a listing stored again without them has none.
        cache.BeginCycle();
        Assert.False(cache.TryGetComm(proc, 4242, 4251, out _));
        cache.Store(proc, 4242, new[] { 4242, 4251 });
        Assert.False(cache.TryGetComm(proc, 4242, 4251, out _));
    }

    [Fact]
    public void ProcfsSource_ReusesTheCyclesListing()
    {
        using var proc = new ProcFs();
        using var source = new DomainProcfsSource();
        var shared = new CycleState();
        var cache = shared.Get<ThreadListingCache>();
        var self = new VmDomain { Name = "self", Pid = Environment.ProcessId };
        cache.BeginCycle();
        var listed = new List<int>();
        Assert.True(cache.TryList(proc, self.Pid, listed)); // as the discovery would have

        var metrics = new VmProbe.MetricSet();
        var context = new CycleContext(new[] { self }, DateTimeOffset.UtcNow, NullProbeLog.Instance, CancellationToken.None) { Shared = shared };
        source.Collect(context, metrics);

        Assert.Equal(1, cache.Hits);
        var threads = metrics.Families.Single(f => f.Name == "domain_threads").Samples.Single().Value;
        Assert.InRange(threads, 1, listed.Count); // threads read from the shared listing (some may have exited since)
    }

    [Fact]
    public void ProbeCycle_HandsItsCacheToAProcessDiscovery()
    {
        using var discovery = new ProcessDomainDiscovery();
        Assert.Null(discovery.Shared);
        _ = new ProbeCycle(discovery, Array.Empty<IMetricSource>(), NullProbeLog.Instance, 5000);
        Assert.NotNull(discovery.Shared);
    }
}
