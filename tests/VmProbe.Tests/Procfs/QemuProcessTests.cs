using System.Diagnostics;
using System.Runtime.InteropServices;
using VmProbe.Procfs;
using VmProbe.Prometheus;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Procfs;

// Not beside the parallel tests: one names threads of this process like vCPUs (CPU n/KVM), which other tests' discovery
// of this process would then see (DomainStatusXmlTests expects its threads unnamed).
[Collection(ProcessWideCollection.Name)]
public class QemuProcessTests
{
    [Theory]
    [InlineData("CPU 0/KVM", 0)]
    [InlineData("CPU 17/TCG", 17)]
    [InlineData("qemu-kvm", -1)]
    [InlineData("CPU x/KVM", -1)]
    [InlineData("CPU 1/", -1)]
    public void VcpuIndexFromComm(string comm, int expected)
    {
        Assert.Equal(expected >= 0, QemuThread.TryParseVcpuIndex(comm, out var index));
        if (expected >= 0)
        {
            Assert.Equal(expected, index);
        }
    }

    [Theory]
    [InlineData("guest=web-01,debug-threads=on", "web-01")]
    [InlineData("web-01,debug-threads=on", "web-01")]
    [InlineData("db.prod \"eu\",,main,debug-threads=on", "db.prod \"eu\",main")]
    [InlineData("debug-threads=on,guest=a b", "a b")]
    [InlineData("plain", "plain")]
    public void NameOption(string value, string expected) => Assert.Equal(expected, QemuCommandLine.ParseNameOption(value));

    [Theory]
    [InlineData("/machine.slice/machine-qemu\\x2d3\\x2dweb\\x2d01.scope/libvirt/vcpu0", "/machine.slice/machine-qemu\\x2d3\\x2dweb\\x2d01.scope")]
    [InlineData("/machine.slice/machine-qemu\\x2d3\\x2dweb\\x2d01.scope/emulator", "/machine.slice/machine-qemu\\x2d3\\x2dweb\\x2d01.scope")]
    [InlineData("/machine/qemu-2-db.libvirt-qemu/vcpu1", "/machine/qemu-2-db.libvirt-qemu")]
    [InlineData("/machine/qemu-2-db.libvirt-qemu", "/machine/qemu-2-db.libvirt-qemu")]
    public void DomainLevelCgroup(string path, string expected) => Assert.Equal(expected, QemuCgroupPath.DomainLevel(path));

    [Theory]
    [InlineData("/machine.slice/machine-qemu\\x2d3\\x2dweb\\x2d01.scope", 3, "web-01")]
    [InlineData("/machine/qemu-2-db.libvirt-qemu", 2, "db")]
    [InlineData("/machine/qemu-12-my.vm-a.libvirt-qemu", 12, "my.vm-a")]
    public void MachineNameFromCgroup(string path, int id, string name)
    {
        Assert.True(QemuCgroupPath.TryParseMachineName(path, out var parsedId, out var parsedName));
        Assert.Equal(id, parsedId);
        Assert.Equal(name, parsedName);
    }

    [Fact]
    public void Inspect_SystemdV2Fixture()
    {
        using var inspector = new QemuProcessInspector(ProcfsParserTests.KvmHost, ProcfsFixtures.CgroupTree);
        var p = inspector.Inspect(4242)!;
        Assert.Equal("web-01", p.CommandLine.Name);
        Assert.Equal(Guid.Parse("3f0b6a52-6b3e-4d2c-9a3f-2f1d7e0b9c11"), p.CommandLine.Uuid);
        Assert.Equal(new[] { new VmVcpu(0, 4251), new VmVcpu(1, 4252) }, p.Vcpus);
        Assert.Equal(QemuThreadKind.IoThread, p.Threads.Single(t => t.ThreadId == 4250).Kind);
        Assert.Equal(QemuThreadKind.Main, p.Threads.Single(t => t.ThreadId == 4242).Kind);
        Assert.Equal(Path.Combine(ProcfsFixtures.CgroupTree, "machine.slice", ProcfsFixtures.WebScope), p.CgroupDirectory);
        Assert.Equal("web-01", p.CgroupMachineName);
        var d = p.ToVmDomain();
        Assert.Equal(VmDomainState.Running, d.State);
        Assert.Equal("process", d.Uri);
        Assert.Equal(4242, d.Pid);
    }

    [Fact]
    public void Inspect_LeavesEachThreadsLastCpuAsAHint_AndTheDiscoveryFillsTheCyclesHints()
    {
        using var inspector = new QemuProcessInspector(ProcfsParserTests.KvmHost, ProcfsFixtures.CgroupTree) { CpuHints = new ThreadCpuHints() };
        inspector.Inspect(4242);
        var expected = new Dictionary<int, int> { [4242] = 1, [4250] = 0, [4251] = 2, [4252] = 3, [4260] = 1 }; // field 39 of each stat
        foreach (var (tid, cpu) in expected)
        {
            Assert.True(inspector.CpuHints.TryGet(tid, out var hinted), $"no hint for thread {tid}");
            Assert.Equal(cpu, hinted);
        }

        // Through the process discovery, in the cycle's shared state where the perf source looks; gone next cycle.
        var shared = new CycleState();
        using var discovery = new ProcessDomainDiscovery(ProcfsParserTests.KvmHost, ProcfsFixtures.CgroupTree) { Shared = shared };
        shared.BeginCycle();
        discovery.Discover(NullProbeLog.Instance, default);
        Assert.True(shared.Get<ThreadCpuHints>().TryGet(4252, out var vcpu1) && vcpu1 == 3);
        shared.BeginCycle();
        Assert.False(shared.Get<ThreadCpuHints>().TryGet(4252, out _));
    }

    [Fact]
    public void Inspect_OfAThreadWhoseStatDoesNotParse_TakesTheCommFilesName_WithoutAHint()
    {
        var root = DomainProcfsSourceTests.CopyKvmHostProcesses();
        try
        {
            File.WriteAllText(Path.Combine(root, "proc", "4242", "task", "4260", "stat"), "4260 (worker S x");
            var shared = new CycleState();
            using var discovery = new ProcessDomainDiscovery(root, ProcfsFixtures.CgroupTree) { Shared = shared };
            shared.BeginCycle();
            var domains = discovery.Discover(NullProbeLog.Instance, default);

            Assert.Contains(domains, d => d.Pid == 4242); // one thread's file does not cost the VM
            Assert.False(shared.Get<ThreadCpuHints>().TryGet(4260, out var cpu) && cpu != -1);
            Assert.True(shared.Get<ThreadCpuHints>().TryGet(4251, out cpu) && cpu == 2);

            // Without hints wanted (the libvirt path), the comm file alone, as before.
            using var inspector = new QemuProcessInspector(root, ProcfsFixtures.CgroupTree);
            Assert.Contains(inspector.Inspect(4242)!.Threads, t => t.ThreadId == 4260 && t.Comm == "worker");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void TaskName_OfLiveThreads_MatchesTheirCommFiles()
    {
        using var proc = new ProcFs();
        var pid = Environment.ProcessId;
        Infrastructure.ProcessWidePhase.Require("a thread of this process renamed");
        using var odd = new VmProbe.Tests.Perf.WorkerThread();
        File.WriteAllText($"/proc/self/task/{odd.Tid}/comm", "IO a\\b"); // raw in comm and stat; only status escapes it
        Assert.Equal("IO a\\b", proc.ReadTaskName(pid, odd.Tid, out _));
        var tids = new List<int>();
        Assert.True(proc.TryListThreads(pid, tids));
        var compared = 0;
        foreach (var tid in tids)
        {
            var comm = proc.ReadTaskComm(pid, tid);
            var name = proc.ReadTaskName(pid, tid, out var cpu);
            if (comm is null || name is null)
            {
                continue; // exited between the reads
            }

            Assert.Equal(comm, name);
            Assert.InRange(cpu, -1, Environment.ProcessorCount * 64);
            compared++;
        }

        Assert.True(compared > 0, "no thread of this process could be read");
    }

    [Fact]
    public void Inspect_HybridNoSystemdFixture()
    {
        using var inspector = new QemuProcessInspector(ProcfsParserTests.KvmHost, Path.Combine(ProcfsParserTests.KvmHost, "hybrid", "sys", "fs", "cgroup"));
        var p = inspector.Inspect(5353)!;
        Assert.Equal("db.prod \"eu\",main", p.CommandLine.Name);
        Assert.Equal(new[] { new VmVcpu(0, 5361) }, p.Vcpus);
        var root = inspector.Cgroups.Root;
        Assert.Equal(CgroupLayout.Hybrid, inspector.Cgroups.Layout);
        Assert.Equal(Path.Combine(root, "unified", "machine", "qemu-2-db.libvirt-qemu"), p.UnifiedCgroupDirectory);
        Assert.Equal(Path.Combine(root, "cpu,cpuacct", "machine", "qemu-2-db.libvirt-qemu"), p.CpuCgroupDirectory);
        var d = inspector.CreateDomain(5353, "db.prod \"eu\",main", Guid.NewGuid(), "qemu:///system", 2)!;
        Assert.Equal(2, d.Id);
        Assert.Equal("qemu:///system", d.Uri);
        Assert.Null(inspector.CreateDomain(99999, "gone", Guid.Empty, "qemu:///system"));
    }

    [Fact]
    public void Scan_FixtureFindsOnlyQemu()
    {
        var found = QemuProcessScanner.Scan(ProcfsParserTests.KvmHost, ProcfsFixtures.CgroupTree);
        Assert.Equal(new[] { 4242, 5353 }, found.Select(p => p.Pid));
    }

    [Fact]
    public void Sampler_SumsThreadsAndVcpus_FromFixture()
    {
        using var inspector = new QemuProcessInspector(ProcfsParserTests.KvmHost, ProcfsFixtures.CgroupTree);
        var domain = inspector.Inspect(4242)!.ToVmDomain();
        domain = new VmDomain { Name = domain.Name, Pid = 4242, Vcpus = domain.Vcpus.Append(new VmVcpu(2, 4299)).ToArray() };
        using var sampler = new DomainProcfsSampler(ProcfsParserTests.KvmHost);
        var sample = new DomainProcfsSample();
        Assert.True(sampler.TrySample(domain, sample));
        Assert.Equal(5, sample.ThreadCount);
        Assert.Equal(40211000000UL + 1211000000 + 930112000000 + 911007000000 + 2000000, sample.Total.RunNanoseconds);
        Assert.Equal(1020000000UL + 33000000 + 21200000000 + 19050000000 + 100000, sample.Total.WaitNanoseconds);
        Assert.Equal(117UL, sample.Total.MajorFaults);
        Assert.Equal(3, sample.Vcpus.Length);
        Assert.Equal(21200000000UL, sample.Vcpus[0].Counters.WaitNanoseconds);
        Assert.Equal(34100UL, sample.Vcpus[1].Counters.GuestTicks);
        Assert.False(sample.Vcpus[2].Present);
        Assert.False(sampler.TrySample(new VmDomain { Name = "gone", Pid = 99999 }, sample));
    }

    [SkippableFact]
    public void Scan_LiveFakeQemuProcess_FoundWithNameAndUuid()
    {
        var bash = Requirements.FindCommand("bash");
        Skip.If(bash is null, "no bash executable");
        var dir = Directory.CreateTempSubdirectory("vmprobe-qemu-");
        var exe = Path.Combine(dir.FullName, "qemu-system-x86_64");
        File.Copy(bash!, exe);
        var uuid = Guid.NewGuid();
        var psi = new ProcessStartInfo(exe) { UseShellExecute = false };
        // bash under a QEMU name (sleep would exit at once on '-name'): the QEMU-like arguments after the script are $0, $1, ...
        foreach (var a in new[] { "-c", "sleep 30; :", "qemu", "-name", "guest=web-01,debug-threads=on", "-uuid", uuid.ToString() })
        {
            psi.ArgumentList.Add(a);
        }

        using var child = Process.Start(psi)!;
        try
        {
            var found = QemuProcessScanner.Scan().SingleOrDefault(p => p.Pid == child.Id);
            Assert.NotNull(found);
            Assert.Equal("web-01", found!.CommandLine.Name);
            Assert.Equal(uuid, found.CommandLine.Uuid);
            Assert.Equal(exe, found.Executable);
            Assert.DoesNotContain(QemuProcessScanner.Scan(), p => p.Pid == Environment.ProcessId);
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Inspect_LiveThreadsNamedLikeVcpus_AreMapped_AndSampled()
    {
        Infrastructure.ProcessWidePhase.Require("threads of this process named CPU n/KVM");
        var tids = new int[2];
        using var ready = new CountdownEvent(2);
        using var release = new ManualResetEventSlim();
        var threads = Enumerable.Range(0, 2).Select(i => new Thread(() =>
        {
            tids[i] = VmProbe.Tests.Perf.PerfTestSupport.GetTid();
            File.WriteAllText($"/proc/self/task/{tids[i]}/comm", $"CPU {i}/KVM");
            ready.Signal();
            release.Wait();
        })).ToArray();
        foreach (var t in threads)
        {
            t.Start();
        }

        try
        {
            ready.Wait();
            using var inspector = new QemuProcessInspector();
            var p = inspector.Inspect(Environment.ProcessId)!;
            // Tests running beside this one in the process name their own threads like vCPUs too: judge only ours.
            Assert.Equal(new[] { new VmVcpu(0, tids[0]), new VmVcpu(1, tids[1]) }, p.Vcpus.Where(v => tids.Contains(v.ThreadId)));
            using var sampler = new DomainProcfsSampler();
            var sample = new DomainProcfsSample();
            Assert.True(sampler.TrySample(p.ToVmDomain(), sample));
            Assert.True(sample.ThreadCount >= 3);
            Assert.True(sample.Vcpus[0].Present && sample.Vcpus[1].Present);
            Assert.True(sample.Total.RunNanoseconds >= sample.Vcpus[0].Counters.RunNanoseconds + sample.Vcpus[1].Counters.RunNanoseconds);
        }
        finally
        {
            release.Set();
            foreach (var t in threads)
            {
                t.Join();
            }
        }
    }

}

public class HostProcfsSourceTests
{
    private sealed class ListLog : IProbeLog
    {
        public List<string> Lines { get; } = new();

        public bool IsEnabled(LogLevel level) => true;

        public void Write(LogLevel level, string message) => Lines.Add($"{level}: {message}");
    }

    private static (MetricSet, ListLog) Collect(HostProcfsSource source, ListLog? log = null)
    {
        log ??= new ListLog();
        var set = new MetricSet();
        source.Collect(new CycleContext(Array.Empty<VmDomain>(), DateTimeOffset.UtcNow, log, default), set);
        return (set, log);
    }

    [Fact]
    public void KvmHostFixture_AllFamilies()
    {
        using var source = new HostProcfsSource(ProcfsParserTests.KvmHost);
        var (set, _) = Collect(source);
        Assert.True(set.TryGet("host_cpu_seconds_total", out var cpu));
        Assert.Equal(CpuModeTimes.ModeNames, cpu.Samples.Select(s => s.LabelValues[0]));
        Assert.Equal(3561420 / ProcFs.ClockTicksPerSecond, cpu.Samples.Single(s => s.LabelValues[0] == "guest").Value, 9);
        Assert.True(set.TryGet("host_sched_wait_seconds_total", out var wait));
        Assert.Equal((1803337113045.0 + 1798850110261 + 1801203477218 + 1799012554420) / 1e9, wait.Samples[0].Value, 6);
        Assert.True(set.TryGet("host_memory_swap_free_bytes", out var swap));
        Assert.Equal(8120320.0 * 1024, swap.Samples[0].Value);
        Assert.True(set.TryGet("host_load15", out var l15));
        Assert.Equal(10.33, l15.Samples[0].Value);
        Assert.True(set.TryGet("host_pressure_cpu_some_seconds_total", out _));
        Assert.False(set.TryGet("host_pressure_cpu_full_seconds_total", out _));
        Assert.True(set.TryGet("host_pressure_io_full_seconds_total", out _));
        Assert.True(set.TryGet("host_context_switches_total", out var ctxt));
        Assert.Equal(2417336021.0, ctxt.Samples[0].Value);
        Assert.All(set.Families, f => Assert.False(string.IsNullOrWhiteSpace(f.Help)));
    }

    [Fact]
    public void MissingSchedstat_OmittedAndLoggedOnce()
    {
        using var source = new HostProcfsSource(ProcfsParserTests.Local);
        var log = new ListLog();
        var (set, _) = Collect(source, log);
        Collect(source, log);
        Assert.False(set.TryGet("host_sched_run_seconds_total", out _));
        Assert.Single(log.Lines, l => l.StartsWith("Info:") && l.Contains("schedstat"));
        Assert.True(set.TryGet("host_memory_total_bytes", out _));
    }

    [Fact]
    public void LiveProc_Collects()
    {
        using var source = new HostProcfsSource();
        var (set, _) = Collect(source);
        Assert.True(set.TryGet("host_cpu_seconds_total", out var cpu));
        Assert.True(cpu.Samples.Single(s => s.LabelValues[0] == "idle").Value > 0);
        Assert.True(set.TryGet("host_memory_available_bytes", out var avail) && avail.Samples[0].Value > 0);
        Assert.Equal(File.Exists("/proc/schedstat"), set.TryGet("host_sched_run_seconds_total", out _));
    }
}
