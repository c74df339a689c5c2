using System.Diagnostics;
using VmProbe.Procfs;
using VmProbe.Tests.Bpf;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Procfs;

/// <summary>
/// Where the task iterator serves the cycle, the process discovery takes its processes from the iterator's walk (the
/// known QEMUs' threads and the leaders the kernel found named like QEMU) instead of listing /proc, and finds what the
/// listing finds.
/// </summary>
[Collection("bpf")]
public class DiscoveryWalkTests
{
    /// <summary>On a fixture tree with a stand-in walk: candidates are checked, gone ones dropped, a reused pid told by its start time.</summary>
    [Fact]
    public void Walk_ChecksCandidates_DropsTheGone_AndTellsAReusedPidByItsStartTime()
    {
        var root = DomainProcfsSourceTests.CopyKvmHostProcesses();
        try
        {
            var proc = Path.Combine(root, "proc");
            // 777: a plain program that the walk (wrongly, or before a later exec) names a candidate.
            CopyProcess(proc, "5353", "777");
            File.WriteAllText(Path.Combine(proc, "777", "cmdline"), "/usr/bin/bash\0-c\0sleep 60\0");
            using var discovery = new ProcessDomainDiscovery(root, ProcfsFixtures.CgroupTree);
            var shared = new CycleState();
            discovery.Shared = shared;
            var walk = new StandInWalk(proc) { Candidates = { [4242] = 100, [5353] = 200, [777] = 300 } };
            shared.Get<ThreadListingCache>().Bulk = walk;
            var log = new DomainProcfsSourceTests.ListLog();
            string[] Cycle()
            {
                shared.BeginCycle();
                return discovery.Discover(log, default).Select(d => $"{d.Pid}:{d.Name}").ToArray();
            }

            Assert.Equal(new[] { "4242:web-01", "5353:db.prod \"eu\",main" }, Cycle());
            Assert.Equal(1, discovery.WalkCycles);
            Assert.Empty(walk.Tracked[0]); // nothing known yet
            Assert.Equal(new[] { 4242, 5353 }, walk.ThreadListings.Last().Order()); // the new QEMUs' threads, in a second walk

            // The kernel names tracked processes by their threads, not as candidates; 777 stays a refused candidate.
            walk.Candidates.Remove(4242);
            walk.Candidates.Remove(5353);
            walk.Starts[4242] = 100;
            walk.Starts[5353] = 200;
            Assert.Equal(new[] { "4242:web-01", "5353:db.prod \"eu\",main" }, Cycle());
            Assert.Equal(new[] { 4242, 5353 }, walk.Tracked[^1].Order());
            Assert.Equal(3, discovery.KnownProcessCount);
            var inspections = discovery.Inspections; // the cycle after a change inspects again

            // A refused candidate is not checked again while its pid and start time hold, even if it now looks like QEMU...
            File.WriteAllText(Path.Combine(proc, "777", "cmdline"), "/usr/bin/qemu-system-x86_64\0-name\0guest=late\0");
            Assert.DoesNotContain("777:late", Cycle());
            Assert.Equal(inspections, discovery.Inspections); // nothing changed: nothing inspected
            // ... and is, as another process, when its start time changes (the pid was reused).
            walk.Candidates[777] = 400;
            Assert.Contains("777:late", Cycle());

            // A tracked QEMU with no threads in the walk is gone.
            Directory.Delete(Path.Combine(proc, "5353"), recursive: true);
            walk.Starts.Remove(5353);
            walk.Candidates.Remove(777);
            walk.Starts[777] = 400;
            Assert.Equal(new[] { "777:late", "4242:web-01" }, Cycle());
            Assert.Equal(2, discovery.KnownProcessCount);

            // A reused pid: same threads, another program. Same start time: the cached domain stands; a new one: inspected.
            File.WriteAllText(Path.Combine(proc, "4242", "cmdline"), "/usr/bin/qemu-system-x86_64\0-name\0guest=web-02\0");
            Assert.Contains("4242:web-01", Cycle());
            walk.Starts[4242] = 500;
            Assert.Contains("4242:web-02", Cycle());
            Assert.Equal(7, discovery.WalkCycles);

            // A walk that cannot stand for the listing (an unreadable executable): /proc is listed, the same domains found.
            walk.Serves = false;
            Assert.Equal(new[] { "777:late", "4242:web-02" }, Cycle());
            Assert.Equal(7, discovery.WalkCycles);
            walk.Serves = true;
            Cycle();
            Assert.Single(log.Lines, l => l.Contains("walk", StringComparison.Ordinal) && l.StartsWith("Info", StringComparison.Ordinal)); // said once
            Assert.Equal(3, log.Lines.Count(l => l.Contains("process discovery:", StringComparison.Ordinal))); // walk, listing, walk again
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// The cycle after a QEMU appeared takes its thread names from the walk: a thread the walk now names <c>CPU n/KVM</c>
    /// is mapped with no comm file read (the file still says the parent's name here) and no second full inspection.
    /// </summary>
    [Fact]
    public void Walk_CycleAfterANewQemu_MapsAThreadNamedSince_FromTheWalksNames()
    {
        var root = DomainProcfsSourceTests.CopyKvmHostProcesses();
        try
        {
            var proc = Path.Combine(root, "proc");
            ProcfsCostTests.AddThread(root, 4242, 4270, "qemu-kvm");
            using var discovery = new ProcessDomainDiscovery(root, ProcfsFixtures.CgroupTree);
            var shared = new CycleState();
            discovery.Shared = shared;
            var walk = new StandInWalk(proc) { Candidates = { [4242] = 100, [5353] = 200 }, Names = new() };
            shared.Get<ThreadListingCache>().Bulk = walk;
            IReadOnlyList<VmDomain> Cycle()
            {
                shared.BeginCycle();
                return discovery.Discover(NullProbeLog.Instance, default);
            }

            var first = Cycle();
            Assert.Equal(1, discovery.WalkCycles);
            Assert.Equal(2, discovery.Inspections);
            Assert.DoesNotContain(first[0].Vcpus, v => v.ThreadId == 4270);
            var vcpus = first[0].Vcpus.Count;

            walk.Candidates.Clear();
            walk.Starts[4242] = 100;
            walk.Starts[5353] = 200;
            walk.Names[4270] = $"CPU {vcpus}/KVM";
            var second = Cycle();
            Assert.Equal(2, discovery.WalkCycles);
            Assert.Equal(2, discovery.Inspections);
            Assert.Equal(2, discovery.NameChecks);
            Assert.Equal(0, discovery.CommFileReads);
            Assert.Equal(first.Select(d => d.Name), second.Select(d => d.Name));
            Assert.Contains(second[0].Vcpus, v => v.ThreadId == 4270 && v.Index == vcpus);
            Assert.Equal(vcpus + 1, second[0].Vcpus.Count);
            Assert.Equal(second[0].Vcpus.OrderBy(v => v.Index), second[0].Vcpus);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// Live fake QEMUs (bash copied under QEMU's name): the walk finds what a /proc listing finds, a process that execs QEMU
    /// after its fork on the next cycle, and drops one that exits.
    /// </summary>
    [SkippableFact]
    public void Walk_FindsWhatTheListingFinds_OnLiveProcesses_ExecAfterFork_AndExit()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        var bash = Requirements.FindCommand("bash");
        Skip.If(bash is null, "no bash executable");
        var dir = Directory.CreateTempSubdirectory("vmprobe-walk-");
        var exe = Path.Combine(dir.FullName, "qemu-system-x86_64");
        File.Copy(bash!, exe);
        var tag = "walk-" + Guid.NewGuid().ToString("N")[..8];
        var children = new List<Process>();
        Process Start(string file, params string[] args)
        {
            var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardInput = true };
            foreach (var a in args)
            {
                psi.ArgumentList.Add(a);
            }

            var child = Process.Start(psi)!;
            children.Add(child);
            return child;
        }

        try
        {
            var a = Start(exe, "-c", "sleep 60; :", "qemu", "-name", $"guest={tag}-a,debug-threads=on", "-uuid", Guid.NewGuid().ToString());
            Start(exe, "-c", "sleep 60; :", "qemu", "-name", $"guest={tag}-b", "-uuid", Guid.NewGuid().ToString());
            // A plain bash that execs QEMU when told: what libvirt's fork then exec looks like.
            var late = Start(bash!, "-c", $"read _; exec '{exe}' -c 'sleep 60; :' qemu -name guest={tag}-late -uuid {Guid.NewGuid()}");

            using var walking = new ProcessDomainDiscovery();
            using var source = DomainProcfsSource.WithTaskIterator();
            using var listing = new ProcessDomainDiscovery();
            var shared = new CycleState();
            walking.Shared = shared;
            string[] Walk()
            {
                shared.BeginCycle();
                var domains = walking.Discover(NullProbeLog.Instance, default);
                source.Collect(new CycleContext(domains, DateTimeOffset.UtcNow, NullProbeLog.Instance, default) { Shared = shared }, new MetricSet());
                return Ours(domains);
            }

            string[] Ours(IEnumerable<VmDomain> domains) =>
                domains.Where(d => d.Name.StartsWith(tag, StringComparison.Ordinal)).Select(d => $"{d.Name} {d.Pid} {d.Uuid} {d.Vcpus.Count}").Order().ToArray();
            string[] Listed() => Ours(listing.Discover(NullProbeLog.Instance, default));

            Walk(); // the first cycle lists /proc (the iterator is opened by the source after it)
            Skip.IfNot(source.Reader == ThreadReader.TaskIterator, "the task iterator did not load");
            var walked = Walk();
            Assert.Equal(1, walking.WalkCycles);
            Assert.Equal(2, walked.Length);
            Assert.Equal(Listed(), walked);

            late.StandardInput.WriteLine();
            late.StandardInput.Flush();
            using (var proc = new ProcFs())
            {
                // Until the exec is done as /proc shows it: the kernel sets the new executable before the new argv's
                // bounds, and a discovery in between finds a QEMU with an empty command line (taken a cycle later).
                bool Execed() => proc.ReadExecutable(late.Id) == exe && (proc.ReadCmdline(late.Id)?.Contains($"guest={tag}-late") ?? false);
                var deadline = DateTime.UtcNow.AddSeconds(10);
                while (!Execed() && DateTime.UtcNow < deadline)
                {
                    Thread.Sleep(20);
                }

                Assert.True(Execed(), "the late process did not exec QEMU");
            }

            walked = Walk();
            Assert.Contains(walked, d => d.StartsWith($"{tag}-late {late.Id} ", StringComparison.Ordinal));
            Assert.Equal(Listed(), walked);

            a.Kill();
            a.WaitForExit();
            walked = Walk();
            Assert.DoesNotContain(walked, d => d.StartsWith($"{tag}-a ", StringComparison.Ordinal));
            Assert.Equal(2, walked.Length);
            Assert.Equal(Listed(), walked);
            Assert.Equal(3, walking.WalkCycles);
        }
        finally
        {
            foreach (var child in children)
            {
                if (!child.HasExited)
                {
                    child.Kill();
                    child.WaitForExit();
                }

                child.Dispose();
            }

            dir.Delete(recursive: true);
        }
    }

    private static void CopyProcess(string proc, string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(Path.Combine(proc, from), "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Path.Combine(proc, from), file).Replace($"task/{from}", $"task/{to}", StringComparison.Ordinal);
            var dest = Path.Combine(proc, to, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(file, dest);
        }
    }

    /// <summary>Stands for the task iterator's walk on a fixture tree: tracked processes by their task directories, candidates as set.</summary>
    private sealed class StandInWalk(string procDirectory) : IBulkProcessLister
    {
        public Dictionary<int, ulong> Candidates { get; } = new();

        /// <summary>Start times of tracked processes (a tracked pid not here has no start time: 0).</summary>
        public Dictionary<int, ulong> Starts { get; } = new();

        public bool Serves { get; set; } = true;

        /// <summary>When set, the walk gives thread names: these, else the comm files'.</summary>
        public Dictionary<int, string>? Names { get; set; }

        public List<int[]> Tracked { get; } = new();

        public List<int[]> ThreadListings { get; } = new();

        public string ProcDirectory => procDirectory;

        public void ListThreads(IReadOnlyList<int> pids, ThreadListingCache into)
        {
            ThreadListings.Add(pids.ToArray());
            foreach (var pid in pids)
            {
                var task = Path.Combine(procDirectory, pid.ToString(), "task");
                if (!Directory.Exists(task))
                {
                    continue;
                }

                var tids = Directory.GetDirectories(task).Select(d => int.Parse(Path.GetFileName(d))).Order().ToArray();
                if (Names is null)
                {
                    into.Store(procDirectory, pid, tids);
                    continue;
                }

                // As the iterator's records carry them: 16 bytes per thread, NUL-padded.
                var comms = new byte[tids.Length * ThreadListingCache.CommBytes];
                for (var i = 0; i < tids.Length; i++)
                {
                    var comm = Names.GetValueOrDefault(tids[i]) ?? File.ReadAllText(Path.Combine(task, tids[i].ToString(), "comm")).TrimEnd('\n');
                    var bytes = System.Text.Encoding.UTF8.GetBytes(comm);
                    bytes.AsSpan(0, Math.Min(bytes.Length, 15)).CopyTo(comms.AsSpan(i * ThreadListingCache.CommBytes));
                }

                into.Store(procDirectory, pid, tids, new ulong[tids.Length], comms);
            }
        }

        public bool ListProcesses(IReadOnlyList<int> tracked, ThreadListingCache into, List<ListedProcess> processes)
        {
            Tracked.Add(tracked.ToArray());
            processes.Clear();
            if (!Serves)
            {
                return false;
            }

            ListThreads(tracked, into);
            ThreadListings.RemoveAt(ThreadListings.Count - 1);
            foreach (var pid in tracked)
            {
                if (Directory.Exists(Path.Combine(procDirectory, pid.ToString(), "task")))
                {
                    processes.Add(new ListedProcess(pid, Starts.GetValueOrDefault(pid), Candidate: false));
                }
            }

            processes.AddRange(Candidates.Select(c => new ListedProcess(c.Key, c.Value, Candidate: true)));
            processes.Sort((x, y) => x.Pid.CompareTo(y.Pid));
            return true;
        }
    }
}
