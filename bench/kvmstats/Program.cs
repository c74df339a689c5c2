// bench/run --kvmstats: CPU per cycle of reading KVM stats fds (N VMs x V vCPUs, tmpfs files holding x86-sized blobs,
// read with the engine's KvmStatsFd) against reading the schedstat files of as many vCPU threads (the fake QEMUs
// bench/run starts, kept open and re-read with pread as DomainProcfsSampler does today).
//
//   KvmStatsBench --pids "PID..." [--vcpus 4] [--cycles 200] [--warmup 50]
using System.Diagnostics;
using System.Globalization;
using VmProbe;
using VmProbe.Kvm;
using VmProbe.Native;
using VmProbe.Procfs;
using VmProbe.Tests.Kvm;
using F = VmProbe.Tests.Kvm.KvmStatsFixture;

var pids = new List<int>();
int vcpus = 4, cycles = 200, warmup = 50;
for (var i = 0; i < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--pids": pids.AddRange(args[i + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)); break;
        case "--vcpus": vcpus = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--cycles": cycles = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--warmup": warmup = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"KvmStatsBench: unknown argument {args[i]}"); return 2;
    }
}

if (pids.Count == 0)
{
    Console.Error.WriteLine("KvmStatsBench: --pids of fake QEMU processes needed (bench/run --kvmstats starts them)");
    return 2;
}

// Schedstat today: one kept file per vCPU thread (CPU n/KVM), pread + parse each cycle.
using var proc = new ProcFs();
var kept = new List<KeptProcFile>();
foreach (var pid in pids)
{
    foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
    {
        var tid = int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture);
        if (proc.ReadTaskComm(pid, tid) is { } comm && comm.StartsWith("CPU ", StringComparison.Ordinal) && proc.TryOpenTaskFile(pid, tid, "schedstat") is { } file)
        {
            kept.Add(file);
        }
    }
}

// KVM stats fds: one per vCPU, an x86 vCPU blob (Linux 6.x: 47 statistics, 3 log histograms of 32 buckets).
// What a host that charts a few statistics writes (`kvmstatsallow`): the emit is most of the source's cycle.
string[] allowList = { "exits", "halt_exits", "halt_wakeup", "irq_exits", "pf_fixed" };
var allow = KvmStatsFilter.Create(allowList);
var allowText = $"kvmstatsallow {allowList.Length}";
var statsFds = new List<KvmStatsFd>();
var domains = new List<(string Name, List<KvmStatsFd> Fds)>();
var keptFds = new List<KvmStatsFd>();
var keptDomains = new List<(string Name, List<KvmStatsFd> Fds)>();
for (var vm = 0; vm < pids.Count; vm++)
{
    var fds = new List<KvmStatsFd>();
    for (var v = 0; v < vcpus; v++)
    {
        var blob = X86Vcpu(vm, v).Build();
        var path = $"/dev/shm/vmprobe-kvmstats-bench-{Environment.ProcessId}-{vm}-{v}";
        File.WriteAllBytes(path, blob);
        var handle = Interop.Libc.Open(path, Interop.Libc.O_RDONLY | Interop.Libc.O_CLOEXEC);
        var second = Interop.Libc.Open(path, Interop.Libc.O_RDONLY | Interop.Libc.O_CLOEXEC);
        File.Delete(path); // anonymous from here on, as a memfd or the kernel's anon inode
        var fd = KvmStatsFd.FromHandle(handle, $"bench vm {vm} vcpu {v}");
        fds.Add(fd);
        statsFds.Add(fd);
        var allowListed = KvmStatsFd.FromHandle(second, $"bench vm {vm} vcpu {v} (allow-listed)");
        allowListed.KeepOnly(allow!); // as the source does with kvmstatsallow
        keptFds.Add(allowListed);
    }

    domains.Add(($"vm{vm}", fds));
    keptDomains.Add(($"vm{vm}", keptFds.GetRange(keptFds.Count - vcpus, vcpus)));
}

var blobBytes = X86Vcpu(0, 0).Build().Length;
var layout = statsFds[0].Layout;
Console.WriteLine($"# {pids.Count} VMs x {vcpus} vCPUs: {kept.Count} schedstat files, {statsFds.Count} stats fds "
    + $"({blobBytes} bytes each, {layout.Descriptors.Count} statistics, data block {layout.DataLength} bytes); {cycles} cycles after {warmup}");

// What the source does per cycle for these domains: read every fd, then the domain's families (summed through the
// domain's own kept aggregation, as KvmStatsSource does for stats fds), into a set reused and reset from cycle to cycle
// as the runner's is. Each case has its own set and aggregations.
static void ReadAndEmit(MetricSet metrics, List<(string Name, List<KvmStatsFd> Fds)> domains, KvmStatsAggregation[] sums, Func<string, bool>? allow)
{
    metrics.Reset();
    var snapshots = new List<KvmStatsSnapshot>();
    for (var d = 0; d < domains.Count; d++)
    {
        var (name, fds) = domains[d];
        snapshots.Clear();
        foreach (var fd in fds)
        {
            snapshots.Add(fd.Read());
        }

        KvmStatsEmitter.AddDomain(metrics, false, name, "00000000-0000-0000-0000-000000000000", snapshots, allow, sums[d]);
    }
}

static KvmStatsAggregation[] SumsFor(int count) => Enumerable.Range(0, count).Select(_ => new KvmStatsAggregation()).ToArray();

var (allSet, filteredSet, keptSet) = (new MetricSet(), new MetricSet(), new MetricSet());
var (allSums, filteredSums, keptSums) = (SumsFor(domains.Count), SumsFor(domains.Count), SumsFor(keptDomains.Count));
var cases = new (string What, Action Cycle)[]
{
    ("schedstat (kept, pread + parse)", () =>
{
    foreach (var file in kept)
    {
        proc.TryReadTaskSchedStat(file, out _);
    }
}),
    ("kvm stats fds (pread + values)", () =>
{
    foreach (var fd in statsFds)
    {
        fd.Read();
    }
}),
    ("kvm stats fds + emit (source's cycle)", () => ReadAndEmit(allSet, domains, allSums, null)),
    // Before KvmStatsFd.KeepOnly: every statistic read, the filter applied while emitting.
    ($"... {allowText}, filtered at emit only", () => ReadAndEmit(filteredSet, domains, filteredSums, allow)),
    ($"kvm stats fds + emit, {allowText}", () => ReadAndEmit(keptSet, keptDomains, keptSums, allow)),
};

// Rounds alternate the cases so that a machine whose load changes (other builds) weighs on each alike: median and min.
const int Rounds = 10;
var results = cases.Select(_ => new List<(double Cpu, double Wall, long Alloc)>()).ToList();
for (var round = 0; round < Rounds; round++)
{
    for (var c = 0; c < cases.Length; c++)
    {
        results[c].Add(Measure(cases[c].Cycle, round == 0 ? warmup : 2, Math.Max(1, cycles / Rounds)));
    }
}

for (var c = 0; c < cases.Length; c++)
{
    var cpu = results[c].Select(r => r.Cpu).Order().ToList();
    var wall = results[c].Select(r => r.Wall).Order().ToList();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{cases[c].What,-42} cpu/cycle median {cpu[Rounds / 2],7:0} min {cpu[0],7:0} us   wall median {wall[Rounds / 2],7:0} us   alloc/cycle {results[c][^1].Alloc,9} B"));
}

foreach (var fd in statsFds)
{
    fd.Dispose();
}

foreach (var file in kept)
{
    file.Dispose();
}

return 0;

(double Cpu, double Wall, long Alloc) Measure(Action cycle, int warm, int count)
{
    for (var i = 0; i < warm; i++)
    {
        cycle();
    }

    var process = Process.GetCurrentProcess();
    var cpu0 = process.TotalProcessorTime;
    var alloc0 = GC.GetAllocatedBytesForCurrentThread();
    var wall = Stopwatch.StartNew();
    for (var i = 0; i < count; i++)
    {
        cycle();
    }

    wall.Stop();
    process.Refresh();
    return ((process.TotalProcessorTime - cpu0).TotalMicroseconds / count, wall.Elapsed.TotalMicroseconds / count,
        (GC.GetAllocatedBytesForCurrentThread() - alloc0) / count);
}

// An x86 vCPU stats fd of Linux 6.x (generic vCPU statistics + arch/x86/kvm/x86.c's kvm_vcpu_stats_desc), values seeded.
static F X86Vcpu(int vm, int vcpu)
{
    var seed = (ulong)(vm * 8 + vcpu + 1);
    var f = F.X86Vcpu(vcpu, seed);
    f.Id = $"kvm-{1000 + vm}/vcpu-{vcpu}";
    foreach (var name in new[]
    {
        "pf_fixed", "pf_emulate", "pf_spurious", "pf_fast", "pf_mmio_spte_created", "pf_guest", "invlpg", "mmio_exits",
        "signal_exits", "irq_window_exits", "nmi_window_exits", "l1d_flush", "halt_exits", "request_irq_exits", "irq_exits",
        "host_state_reload", "fpu_reload", "insn_emulation", "insn_emulation_fail", "hypercalls", "req_event",
        "nested_run", "directed_yield_attempted", "directed_yield_successful", "preemption_reported", "preemption_other",
        "invalid_state_exits",
    })
    {
        f.Stat(name, F.Cumulative, 0, seed * 11);
    }

    return f;
}
