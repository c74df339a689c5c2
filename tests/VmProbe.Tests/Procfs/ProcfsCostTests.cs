using VmProbe.Tests.Infrastructure;
using VmProbe.Native;
using VmProbe.Procfs;
using Xunit;

namespace VmProbe.Tests.Procfs;

/// <summary>The cheap paths of the hot loop: fd counting without stat, kept per-thread files, the cached /proc scan.</summary>
[Collection(ProcessWideCollection.Name)]
public class ProcfsCostTests
{
    [Fact]
    public void CountDirectoryEntries_CountsEveryEntryButDots()
    {
        var dir = Directory.CreateTempSubdirectory("vmprobe-fdcount-").FullName;
        try
        {
            // More entries than one 32 kB getdents64 buffer holds, so the loop is exercised.
            for (var i = 0; i < 1500; i++)
            {
                File.WriteAllText(Path.Combine(dir, "entry-with-a-long-name-" + i), string.Empty);
            }

            Directory.CreateDirectory(Path.Combine(dir, "sub"));
            Assert.Equal(1501, ProcessFds.CountDirectoryEntries(dir));
            Assert.Equal(-1, ProcessFds.CountDirectoryEntries(Path.Combine(dir, "missing")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void CountOpen_SeesThisProcessFds()
    {
        var count = ProcessFds.CountOpen();
        Assert.True(count >= 3, $"{count} fds"); // at least stdin, stdout, stderr
    }

    [SkippableFact]
    public void CountFromDirectorySize_MatchesTheListing_AndFollowsOpenedFds()
    {
        var reported = ProcessFds.CountFromDirectorySize();
        Skip.If(reported == 0, "this kernel (before Linux 6.2) reports size 0 for /proc/self/fd: CountOpen lists it instead");
        Assert.True(reported > 0, $"statx of /proc/self/fd failed ({reported})");

        var opened = new List<FileStream>();
        try
        {
            var before = ProcessFds.CountFromDirectorySize();
            for (var i = 0; i < 20; i++)
            {
                opened.Add(File.OpenRead("/proc/self/stat"));
            }

            var after = ProcessFds.CountFromDirectorySize();
            var listed = ProcessFds.CountDirectoryEntries("/proc/self/fd") - 1; // minus the listing's own fd
            // Other test threads may open files meanwhile: the 20 are seen, and both ways agree within that noise.
            Assert.True(after - before >= 12, $"before {before}, after {after}");
            Assert.InRange(listed, after - 8, after + 8);
            Assert.InRange(ProcessFds.CountOpen(), after - 8, after + 8);
        }
        finally
        {
            opened.ForEach(stream => stream.Dispose());
        }
    }

    [Fact]
    public void Sampler_KeepsTwoFilesPerThread_AndClosesThemWhenTheThreadOrDomainGoes()
    {
        using var sampler = new DomainProcfsSampler();
        var self = new VmDomain { Name = "self", Pid = Environment.ProcessId };
        var sample = new DomainProcfsSample();
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var extra = new Thread(() =>
        {
            started.Set();
            release.Wait();
        });
        extra.Start();
        started.Wait();

        sampler.BeginCycle();
        Assert.True(sampler.TrySample(self, sample));
        sampler.EndCycle();
        var threadsBefore = sample.ThreadCount;
        var keptBefore = sampler.KeptFdCount;
        Assert.True(keptBefore >= 2, $"{keptBefore} kept fds");
        Assert.True(keptBefore <= 2 * threadsBefore, $"{keptBefore} kept fds for {threadsBefore} threads");
        Assert.True(KeptProcFile.OpenCount >= keptBefore);

        release.Set();
        extra.Join();
        sampler.BeginCycle();
        Assert.True(sampler.TrySample(self, sample));
        sampler.EndCycle();

        // Kept files are re-read, not frozen: this thread's own run time went on.
        Assert.True(sample.Total.RunNanoseconds > 0);
        Assert.True(sampler.KeptFdCount <= 2 * sample.ThreadCount, $"{sampler.KeptFdCount} kept fds for {sample.ThreadCount} threads after a thread exited");

        // A cycle without the domain closes all of its files.
        sampler.BeginCycle();
        sampler.EndCycle();
        Assert.Equal(0, sampler.KeptFdCount);
    }

    [Fact]
    public void Sampler_KeptAndReopenedFiles_GiveTheSameCounters()
    {
        var root = DomainProcfsSourceTests.CopyKvmHostProcesses();
        try
        {
            var domain = new VmDomain { Name = "web-01", Pid = 4242 };
            using var kept = new DomainProcfsSampler(root);
            using var reopened = new DomainProcfsSampler(root, maxKeptFds: 0);
            var a = new DomainProcfsSample();
            var b = new DomainProcfsSample();
            for (var cycle = 0; cycle < 2; cycle++)
            {
                kept.BeginCycle();
                reopened.BeginCycle();
                Assert.True(kept.TrySample(domain, a));
                Assert.True(reopened.TrySample(domain, b));
                kept.EndCycle();
                reopened.EndCycle();
                Assert.Equal(5, a.ThreadCount);
                Assert.Equal(b.ThreadCount, a.ThreadCount);
                Assert.Equal(b.Total.RunNanoseconds, a.Total.RunNanoseconds);
                Assert.Equal(b.Total.WaitNanoseconds, a.Total.WaitNanoseconds);
                Assert.Equal(b.Total.MinorFaults, a.Total.MinorFaults);
                Assert.Equal(b.Total.GuestTicks, a.Total.GuestTicks);
                Assert.Equal(10, kept.KeptFdCount);
                Assert.Equal(0, reopened.KeptFdCount);
            }

            // A kept file is re-read at offset 0: a rewritten schedstat shows its new value.
            File.WriteAllText(Path.Combine(root, "proc", "4242", "task", "4260", "schedstat"), "3000000 0 1\n");
            kept.BeginCycle();
            Assert.True(kept.TrySample(domain, a));
            kept.EndCycle();
            reopened.BeginCycle();
            Assert.True(reopened.TrySample(domain, b));
            reopened.EndCycle();
            Assert.Equal(b.Total.RunNanoseconds, a.Total.RunNanoseconds);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Discovery_InspectsAProcessOnlyWhenItsThreadsChange()
    {
        var root = DomainProcfsSourceTests.CopyKvmHostProcesses();
        try
        {
            using var discovery = new ProcessDomainDiscovery(root, ProcfsFixtures.CgroupTree);
            var first = discovery.Discover(NullProbeLog.Instance, default);
            Assert.Equal(new[] { "web-01", "db.prod \"eu\",main" }, first.Select(d => d.Name));
            Assert.Equal(2, discovery.Inspections);

            // A new process is inspected once more the cycle after it appeared (QEMU may not have named its threads yet), then no more.
            discovery.Discover(NullProbeLog.Instance, default);
            Assert.Equal(4, discovery.Inspections);
            var third = discovery.Discover(NullProbeLog.Instance, default);
            Assert.Equal(4, discovery.Inspections);
            Assert.Equal(first.Select(d => d.Name), third.Select(d => d.Name));

            // A new vCPU thread (hotplug): the process is inspected again, and once more the cycle after.
            var vcpusBefore = third[0].Vcpus.Count;
            var newThread = Path.Combine(root, "proc", "4242", "task", "4270");
            Directory.CreateDirectory(newThread);
            foreach (var file in new[] { "schedstat", "stat" })
            {
                File.Copy(Path.Combine(root, "proc", "4242", "task", "4251", file), Path.Combine(newThread, file));
            }

            File.WriteAllText(Path.Combine(newThread, "comm"), $"CPU {vcpusBefore}/KVM\n");
            var changed = discovery.Discover(NullProbeLog.Instance, default);
            Assert.Equal(5, discovery.Inspections);
            Assert.Equal(vcpusBefore + 1, changed[0].Vcpus.Count);
            Assert.Contains(changed[0].Vcpus, v => v.ThreadId == 4270 && v.Index == vcpusBefore);
            discovery.Discover(NullProbeLog.Instance, default);
            Assert.Equal(6, discovery.Inspections);
            discovery.Discover(NullProbeLog.Instance, default);
            Assert.Equal(6, discovery.Inspections);

            // A vanished process is dropped.
            Directory.Delete(Path.Combine(root, "proc", "5353"), recursive: true);
            var last = discovery.Discover(NullProbeLog.Instance, default);
            Assert.Equal(new[] { "web-01" }, last.Select(d => d.Name));
            Assert.Equal(1, discovery.KnownProcessCount);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
