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

            // The cycle after a new process appeared re-reads its thread names alone (QEMU may not have named them yet), then nothing.
            discovery.Discover(NullProbeLog.Instance, default);
            Assert.Equal(2, discovery.Inspections);
            Assert.Equal(2, discovery.NameChecks);
            var third = discovery.Discover(NullProbeLog.Instance, default);
            Assert.Equal(2, discovery.Inspections);
            Assert.Equal(2, discovery.NameChecks);
            Assert.Equal(first.Select(d => d.Name), third.Select(d => d.Name));

            // A new vCPU thread (hotplug): the process is inspected again, and its names re-read the cycle after.
            var vcpusBefore = third[0].Vcpus.Count;
            AddThread(root, 4242, 4270, $"CPU {vcpusBefore}/KVM");
            var changed = discovery.Discover(NullProbeLog.Instance, default);
            Assert.Equal(3, discovery.Inspections);
            Assert.Equal(vcpusBefore + 1, changed[0].Vcpus.Count);
            Assert.Contains(changed[0].Vcpus, v => v.ThreadId == 4270 && v.Index == vcpusBefore);
            discovery.Discover(NullProbeLog.Instance, default);
            Assert.Equal(3, discovery.Inspections);
            Assert.Equal(3, discovery.NameChecks);
            discovery.Discover(NullProbeLog.Instance, default);
            Assert.Equal(3, discovery.Inspections);
            Assert.Equal(3, discovery.NameChecks);

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

    /// <summary>
    /// A thread listed under its parent's name, named <c>CPU n/KVM</c> only after that listing (QEMU names its threads just
    /// after creating them), is mapped the next cycle from its comm file alone: no second full inspection.
    /// </summary>
    [Fact]
    public void Discovery_CycleAfterANewProcess_MapsAThreadNamedSince_FromTheNamesAlone()
    {
        var root = DomainProcfsSourceTests.CopyKvmHostProcesses();
        try
        {
            var unnamed = AddThread(root, 4242, 4270, "qemu-kvm"); // still its parent's name
            using var discovery = new ProcessDomainDiscovery(root, ProcfsFixtures.CgroupTree);
            var first = discovery.Discover(NullProbeLog.Instance, default);
            Assert.Equal(2, discovery.Inspections);
            Assert.DoesNotContain(first[0].Vcpus, v => v.ThreadId == 4270);
            var vcpus = first[0].Vcpus.Count;

            RenameThread(unnamed, $"CPU {vcpus}/KVM");
            var second = discovery.Discover(NullProbeLog.Instance, default);
            Assert.Equal(2, discovery.Inspections); // no cmdline, cgroups or trust check again
            Assert.Equal(2, discovery.NameChecks);
            Assert.Contains(second[0].Vcpus, v => v.ThreadId == 4270 && v.Index == vcpus);

            // The same domains and vCPUs as a full inspection finds; only the threads not yet vCPUs were read.
            using (var fresh = new ProcessDomainDiscovery(root, ProcfsFixtures.CgroupTree))
            {
                var inspected = fresh.Discover(NullProbeLog.Instance, default);
                Assert.Equal(inspected.Select(d => (d.Name, d.Uuid, d.Pid, d.CgroupPath, d.PerfCgroupPath)), second.Select(d => (d.Name, d.Uuid, d.Pid, d.CgroupPath, d.PerfCgroupPath)));
                for (var i = 0; i < inspected.Count; i++)
                {
                    Assert.Equal(inspected[i].Vcpus, second[i].Vcpus);
                }
            }

            var notVcpus = first.Sum(d => Directory.GetDirectories(Path.Combine(root, "proc", d.Pid.ToString(), "task")).Length - d.Vcpus.Count);
            Assert.Equal(notVcpus, discovery.CommFileReads);

            // Then nothing more is read while the threads stay.
            Assert.Equal(second[0].Vcpus, discovery.Discover(NullProbeLog.Instance, default)[0].Vcpus);
            Assert.Equal(2, discovery.Inspections);
            Assert.Equal(2, discovery.NameChecks);
            Assert.Equal(notVcpus, discovery.CommFileReads);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// A QEMU found untrusted (here: libvirt's pid file names another pid) is inspected in full again the cycle after its
    /// threads changed, trust check included, not given the names-only re-check: once libvirt has rewritten its pid file,
    /// the VM is counted without waiting for another thread to come or go.
    /// </summary>
    [SkippableFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Discovery_AnUntrustedProcessIsCheckedInFullTheCycleAfterAChange()
    {
        Skip.IfNot(Requirements.IsRoot, "the trust rule wants QEMU's executable owned by root; the test runs as " + Environment.UserName);
        var root = DomainProcfsSourceTests.CopyKvmHostProcesses();
        try
        {
            var pids = TrustedQemuExecutable(root, 4242);
            var pidFile = Path.Combine(pids, "web-01.pid");
            File.WriteAllText(pidFile, "999\n"); // stale: an earlier QEMU of web-01

            using var discovery = new ProcessDomainDiscovery(root, ProcfsFixtures.CgroupTree, new QemuTrust(pids));
            Assert.DoesNotContain(discovery.Discover(NullProbeLog.Instance, default), d => d.Name == "web-01");
            AddThread(root, 4242, 4270, "worker");
            Assert.DoesNotContain(discovery.Discover(NullProbeLog.Instance, default), d => d.Name == "web-01");
            var inspections = discovery.Inspections;

            File.WriteAllText(pidFile, "4242\n");
            var domains = discovery.Discover(NullProbeLog.Instance, default);
            Assert.Equal(inspections + 1, discovery.Inspections);
            Assert.Contains(domains, d => d.Name == "web-01" && d.Pid == 4242);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// A QEMU libvirt did not start has no pid file: a first discovery of hundreds of them must not throw (and catch) a
    /// FileNotFoundException for each, which costs more than everything else it reads of the process.
    /// </summary>
    [SkippableFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Discovery_AQemuWithoutAPidFileIsTrustedWithoutAThrownException()
    {
        Skip.IfNot(Requirements.IsRoot, "the trust rule wants QEMU's executable owned by root; the test runs as " + Environment.UserName);
        var root = DomainProcfsSourceTests.CopyKvmHostProcesses();
        var thread = Environment.CurrentManagedThreadId;
        var missingFiles = 0;
        void Count(object? sender, System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs e)
        {
            if (Environment.CurrentManagedThreadId == thread && e.Exception is FileNotFoundException or DirectoryNotFoundException)
            {
                Interlocked.Increment(ref missingFiles);
            }
        }

        AppDomain.CurrentDomain.FirstChanceException += Count;
        try
        {
            var pids = TrustedQemuExecutable(root, 4242); // no web-01.pid

            using var discovery = new ProcessDomainDiscovery(root, ProcfsFixtures.CgroupTree, new QemuTrust(pids));
            Assert.Contains(discovery.Discover(NullProbeLog.Instance, default), d => d.Name == "web-01" && d.Pid == 4242);
            Assert.Equal(0, missingFiles);
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= Count;
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// Gives fixture process <paramref name="pid"/> a root-owned QEMU executable in a directory only root may write, as
    /// the trust rule wants; returns an empty directory for libvirt's pid files.
    /// </summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal static string TrustedQemuExecutable(string root, int pid)
    {
        var bin = Directory.CreateDirectory(Path.Combine(root, "bin")).FullName;
        var exe = Path.Combine(bin, "qemu-system-x86_64");
        File.WriteAllText(exe, string.Empty);
        File.SetUnixFileMode(exe, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.SetUnixFileMode(bin, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        File.CreateSymbolicLink(Path.Combine(root, "proc", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "exe"), exe);
        return Directory.CreateDirectory(Path.Combine(root, "run")).FullName;
    }

    /// <summary>
    /// Adds a thread to a fixture process (files copied from its first vCPU thread, the name in its stat and comm as the
    /// kernel keeps them, alike); returns its comm file, which a test rewrites for a rename the re-check must see.
    /// </summary>
    internal static string AddThread(string root, int pid, int tid, string comm)
    {
        var task = Path.Combine(root, "proc", pid.ToString(), "task");
        var from = Directory.GetDirectories(task).Select(d => int.Parse(Path.GetFileName(d))).Order().First(t => t != pid);
        var thread = Path.Combine(task, tid.ToString());
        Directory.CreateDirectory(thread);
        File.Copy(Path.Combine(task, from.ToString(), "schedstat"), Path.Combine(thread, "schedstat"));
        var stat = File.ReadAllText(Path.Combine(task, from.ToString(), "stat"));
        File.WriteAllText(Path.Combine(thread, "stat"), $"{tid} ({comm}{stat[stat.LastIndexOf(')')..]}");

        var commFile = Path.Combine(thread, "comm");
        File.WriteAllText(commFile, comm + "\n");
        return commFile;
    }

    /// <summary>Renames a fixture thread as prctl(PR_SET_NAME) would: its comm and the name in its stat alike.</summary>
    internal static void RenameThread(string commFile, string name)
    {
        File.WriteAllText(commFile, name + "\n");
        var statFile = Path.Combine(Path.GetDirectoryName(commFile)!, "stat");
        var stat = File.ReadAllText(statFile);
        File.WriteAllText(statFile, $"{stat[..stat.IndexOf('(')]}({name}{stat[stat.LastIndexOf(')')..]}");
    }
}
