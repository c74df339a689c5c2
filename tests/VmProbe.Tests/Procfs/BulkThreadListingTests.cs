using System.Diagnostics;
using VmProbe.Bpf;
using VmProbe.Tests.Bpf;
using VmProbe.Procfs;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Procfs;

/// <summary>
/// Where the task iterator is loaded, one read per cycle lists every QEMU's threads for the discovery and serves the
/// procfs source and the perf source's thread sync: no /proc/PID/task directory is listed for them.
/// </summary>
[Collection("bpf")]
public class BulkThreadListingTests
{
    [Fact]
    public void Discovery_AsksTheBulkListerForTheQemuProcessesOnly_AndUsesWhatItListed()
    {
        var root = DomainProcfsSourceTests.CopyKvmHostProcesses();
        try
        {
            using var discovery = new ProcessDomainDiscovery(root, ProcfsFixtures.CgroupTree);
            var shared = new CycleState();
            discovery.Shared = shared;
            var cache = shared.Get<ThreadListingCache>();
            var lister = new RecordingLister(Path.Combine(root, "proc"), servePid: 4242);
            cache.Bulk = lister;

            shared.BeginCycle();
            var domains = discovery.Discover(NullProbeLog.Instance, default);

            Assert.Equal(new[] { "web-01", "db.prod \"eu\",main" }, domains.Select(d => d.Name));
            var asked = Assert.Single(lister.Calls);
            Assert.Equal(domains.Select(d => d.Pid).Order(), asked.Order()); // not the fixture's other processes
            Assert.Equal(1, cache.Hits); // 4242 from the bulk listing; 5353, which it left out, listed from its directory

            // A lister for another proc tree is not asked.
            cache.Bulk = new RecordingLister("/elsewhere/proc", servePid: 4242);
            shared.BeginCycle();
            discovery.Discover(NullProbeLog.Instance, default);
            Assert.Empty(((RecordingLister)cache.Bulk).Calls);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [SkippableFact]
    public void OneIteratorReadPerCycle_ServesTheDiscoveryAndTheProcfsSource_OnARealQemu()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        var qemu = Requirements.FindCommand("qemu-system-x86_64");
        Skip.If(qemu is null, "qemu-system-x86_64 is not installed");
        var name = "vmprobe-test-bulk-" + Guid.NewGuid().ToString("N")[..8];
        var psi = new ProcessStartInfo(qemu!) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[]
        {
            "-name", $"guest={name},debug-threads=on", "-uuid", Guid.NewGuid().ToString(), "-machine", "pc", "-accel", "tcg",
            "-cpu", "qemu64", "-smp", "2", "-m", "64", "-nodefaults", "-display", "none", "-S",
        })
        {
            psi.ArgumentList.Add(a);
        }

        using var child = Process.Start(psi)!;
        try
        {
            using var discovery = new ProcessDomainDiscovery();
            using var source = DomainProcfsSource.WithTaskIterator();
            var shared = new CycleState();
            discovery.Shared = shared;
            VmDomain? domain = null;
            MetricSet? metrics = null;
            long readsBefore = 0;
            var cycles = 0;
            for (var attempt = 0; attempt < 300 && !child.HasExited; attempt++)
            {
                readsBefore = source.IteratorReads;
                shared.BeginCycle();
                var domains = discovery.Discover(NullProbeLog.Instance, default);
                domain = domains.SingleOrDefault(d => d.Name == name);
                metrics = new MetricSet();
                source.Collect(new CycleContext(domains, DateTimeOffset.UtcNow, NullProbeLog.Instance, default) { Shared = shared }, metrics);
                cycles++;
                if (domain is { Vcpus.Count: 2 } && cycles >= 3)
                {
                    break;
                }

                Thread.Sleep(100);
            }

            Assert.False(child.HasExited, "QEMU exited: " + (child.HasExited ? child.StandardError.ReadToEnd() : string.Empty));
            Assert.True(domain is { Vcpus.Count: 2 }, "QEMU's two vCPU threads were not discovered");
            Assert.Equal(ThreadReader.TaskIterator, source.Reader);
            Assert.Equal(1, source.IteratorReads - readsBefore); // the discovery's read served the source too
            Assert.Equal(cycles, source.IteratorReads);
            Assert.True(shared.Get<ThreadListingCache>().Hits > 0, "the discovery listed the task directory itself");

            var listed = new DirectoryInfo($"/proc/{child.Id}/task").GetDirectories().Select(d => int.Parse(d.Name)).Order().ToArray();
            var threads = metrics!.Families.Single(f => f.Name == "domain_threads").Samples.Single(s => s.LabelValues[0] == name).Value;
            Assert.Equal(listed.Length, threads); // QEMU -S: its threads stay put
            Assert.All(domain!.Vcpus, v => Assert.Contains(v.ThreadId, listed));
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
    }

    private sealed class RecordingLister(string procDirectory, int servePid) : IBulkThreadLister
    {
        public List<int[]> Calls { get; } = new();

        public string ProcDirectory => procDirectory;

        public void ListThreads(IReadOnlyList<int> pids, ThreadListingCache into)
        {
            Calls.Add(pids.ToArray());
            if (pids.Contains(servePid))
            {
                var tids = new DirectoryInfo(Path.Combine(procDirectory, servePid.ToString(), "task")).GetDirectories()
                    .Select(d => int.Parse(d.Name)).Order().ToArray();
                into.Store(procDirectory, servePid, tids);
            }
        }
    }
}
