// bench/bpf-cost's driver (see that script).
//   bpfbench attach MODE [PATH]
//                             loads the self-test (MODE counts|latency; PATH hash|ts|raw: the counting path, default
//                             hash), traces every process, prints "attached", waits for a line on stdin, prints each
//                             program's run time per run (kernel.bpf_stats_enabled), exits (detaching)
//   bpfbench attach-file OBJ [PROGRAM..]
//                             the same with the named (default: every) program of any BPF object file (an empty
//                             program: the fixed cost)
//   bpfbench maps VMS VCPUS REASONS CYCLES [PATH]
//                             fills the self-test's maps like VMS x VCPUS threads x REASONS (counts) and VMS x REASONS
//                             histograms, then times CYCLES Snapshot() calls: "bpf_maps entries=.. us_per_read=..";
//                             PATH ts puts the counts in VMS x VCPUS real threads' task-storage blocks instead
using System.Diagnostics;
using System.Runtime.InteropServices;
using VmProbe.Bpf;

var mode = args.Length > 0 ? args[0] : "";
if (mode == "attach-file")
{
    // Any object (an empty program, a variant): every program attached, the same per-run report as attach.
    const string statsPath = "/proc/sys/kernel/bpf_stats_enabled";
    var previous = File.ReadAllText(statsPath).Trim();
    if (Environment.GetEnvironmentVariable("BPFBENCH_NOSTATS") is null)
    {
        File.WriteAllText(statsPath, "1");
    }

    try
    {
        using var obj = BpfObject.Load(Path.GetFileNameWithoutExtension(args[1]), File.ReadAllBytes(args[1]));
        foreach (var program in args.Length > 2 ? args[2..] : obj.Programs())
        {
            obj.Attach(program);
        }

        Console.WriteLine("attached");
        Console.ReadLine();
        Console.WriteLine(RunStats(obj));
    }
    finally
    {
        File.WriteAllText(statsPath, previous);
    }

    return 0;
}

if (mode == "attach")
{
    // kernel.bpf_stats_enabled makes the kernel time every program run (run_time_ns, run_cnt in fdinfo): the
    // program's own cost per event, apart from the noise of the loop; restored at the end.
    const string stats = "/proc/sys/kernel/bpf_stats_enabled";
    var statsBefore = File.ReadAllText(stats).Trim();
    if (Environment.GetEnvironmentVariable("BPFBENCH_NOSTATS") is null)
    {
        File.WriteAllText(stats, "1"); // BPFBENCH_NOSTATS: the run without the statistics' two clock reads per run
    }

    try
    {
        using var tracer = SyscallTracer.Open(latency: args.Length > 1 && args[1] == "latency", onlyTgid: 0, maxCounts: 1 << 18,
            path: ParsePath(args.Length > 2 ? args[2] : "hash"));
        Console.WriteLine("attached");
        Console.ReadLine();
        Console.WriteLine(RunStats(tracer.Object));
    }
    finally
    {
        File.WriteAllText(stats, statsBefore);
    }

    return 0;
}

if (mode == "maps")
{
    int vms = int.Parse(args[1]), vcpus = int.Parse(args[2]), reasons = int.Parse(args[3]), cycles = int.Parse(args[4]);
    // A tgid no process has: the filter keeps the real syscalls of this host out of the maps.
    var path = ParsePath(args.Length > 5 ? args[5] : "hash");
    using var tracer = SyscallTracer.Open(latency: true, onlyTgid: int.MaxValue, maxCounts: (uint)(vms * vcpus * reasons * 2),
        maxHistograms: (uint)(vms * reasons * 2), path: path);
    var counts = tracer.Object.Map("counts");
    var latency = tracer.Object.Map("latency");
    var hist = new Hist { SumNs = 1000, Count = 1 };
    var threads = path == BpfCountPath.Hash ? Array.Empty<int>() : VcpuThreads(vms * vcpus);
    for (var vm = 0; vm < vms; vm++)
    {
        var tgid = (uint)(4_000_000 + vm * 100);
        for (var t = 1; t <= vcpus; t++)
        {
            if (path == BpfCountPath.Hash)
            {
                for (var r = 0; r < reasons; r++)
                {
                    counts.Update(new CountKey(tgid, tgid + (uint)t, 1, (uint)r), (ulong)(vm + t + r));
                }

                continue;
            }

            // A real thread's block, written through a pidfd of the thread as user space writes task storage.
            var tid = threads[vm * vcpus + t - 1];
            var block = new Block { Tgid = tgid, Tid = (uint)tid, F1 = 1 };
            block.Fill(reasons, (ulong)(vm + t));

            var pidfd = PidFdOpen(434, tid, 0x80 /* PIDFD_THREAD */, 0);
            if (pidfd < 0)
            {
                throw new InvalidOperationException($"pidfd_open({tid}, PIDFD_THREAD) failed: errno {Marshal.GetLastPInvokeError()}");
            }

            tracer.Object.Map("thread_counts").Update(pidfd, block);
            Close(pidfd);
        }

        for (var r = 0; r < reasons; r++)
        {
            latency.Update(new HistKey(tgid, (uint)r), hist);
        }
    }

    var entries = 0;
    for (var i = 0; i < 20; i++)
    {
        entries = tracer.Snapshot().Counts.Count; // warm up (JIT, buffers)
    }

    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var wall = Stopwatch.StartNew();
    for (var i = 0; i < cycles; i++)
    {
        tracer.Snapshot();
    }

    var cpuUs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / cycles;
    // The kernel's share: the batch reads alone, into reused lists (no records).
    var rawCounts = new List<KeyValuePair<CountKey, ulong>>();
    var rawHists = new List<KeyValuePair<HistKey, Hist>>();
    TimeSpan countsTime = default, histsTime = default;
    for (var i = 0; i < cycles; i++)
    {
        var t0 = Stopwatch.GetTimestamp();
        rawCounts.Clear();
        counts.ReadAll(rawCounts);
        var t1 = Stopwatch.GetTimestamp();
        rawHists.Clear();
        latency.ReadAll(rawHists);
        countsTime += Stopwatch.GetElapsedTime(t0, t1);
        histsTime += Stopwatch.GetElapsedTime(t1);
    }

    Console.WriteLine($"bpf_maps_raw counts_us={countsTime.TotalMicroseconds / cycles:F0} ({counts.MaxEntries} max entries) " +
        $"hists_us={histsTime.TotalMicroseconds / cycles:F0} ({latency.MaxEntries} max entries): the batch reads alone, no records");
    Console.WriteLine($"bpf_maps path={path} vms={vms} vcpus={vcpus} reasons={reasons} count_entries={entries} hist_entries={vms * reasons} " +
        $"us_per_read={wall.Elapsed.TotalMicroseconds / cycles:F0} cpu_us_per_read={cpuUs:F0}");
    return 0;
}

if (mode == "soak")
{
    // Churn for CYCLES cycles: each cycle a thread makes 50 syscalls and exits, every 10th cycle a child process runs
    // and exits, and the maps are read once (Snapshot); every tenth of the run prints the map entries, this process's
    // BPF fds and its RSS. Keys of exited threads fold into tid 0 and those of exited processes go, so nothing grows.
    int cycles = int.Parse(args[1]);
    using var tracer = SyscallTracer.Open(latency: true, onlyTgid: 0, maxCounts: 65_536, maxHistograms: 8_192);
    var maps = new[] { "counts", "latency", "pending", "threads", "procs" }.ToDictionary(n => n, n => tracer.Object.Map(n));
    int Entries(string name) => name switch
    {
        "counts" => Read<CountKey, ulong>(maps[name]),
        "latency" => Read<HistKey, Hist>(maps[name]),
        "pending" => Read<uint, Pending>(maps[name]),
        _ => Read<uint, uint>(maps[name]),
    };

    Console.WriteLine("cycle " + string.Join(" ", maps.Keys) + " bpf_fds rss_kib");
    for (var cycle = 1; cycle <= cycles; cycle++)
    {
        var thread = new Thread(() =>
        {
            for (var i = 0; i < 50; i++)
            {
                _ = Environment.ProcessId == 0 ? 0 : GetPpid();
            }
        });
        thread.Start();
        thread.Join();
        if (cycle % 10 == 0)
        {
            using var child = Process.Start(new ProcessStartInfo("/bin/true") { UseShellExecute = false })!;
            child.WaitForExit();
        }

        tracer.Snapshot();
        if (cycle % (cycles / 10) == 0 || cycle == 1)
        {
            var fds = Directory.EnumerateFileSystemEntries("/proc/self/fd").Count(f => new FileInfo(f).LinkTarget?.StartsWith("anon_inode:bpf", StringComparison.Ordinal) == true);
            var rss = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            Console.WriteLine($"{cycle} " + string.Join(" ", maps.Keys.Select(Entries)) + $" {fds} {rss}");
        }
    }

    return 0;
}

Console.Error.WriteLine("usage: bpfbench attach counts|latency | bpfbench maps VMS VCPUS REASONS CYCLES | bpfbench soak CYCLES");
return 2;

static int Read<TKey, TValue>(BpfMap map)
    where TKey : unmanaged
    where TValue : unmanaged
{
    var entries = new List<KeyValuePair<TKey, TValue>>();
    map.ReadAll(entries);
    return entries.Count;
}

[DllImport("libc", EntryPoint = "getppid")]
static extern int GetPpid();

[DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
static extern int PidFdOpen(long number, int pid, uint flags, int unused);

[DllImport("libc", EntryPoint = "syscall")]
static extern int GetTid(long number);

[DllImport("libc", EntryPoint = "close")]
static extern int Close(int fd);

static BpfCountPath ParsePath(string name) => name switch
{
    "hash" => BpfCountPath.Hash,
    "ts" => BpfCountPath.TaskStorage,
    "raw" => BpfCountPath.TaskStorageRawTp,
    _ => throw new ArgumentException($"bpfbench: path '{name}' is not hash, ts or raw"),
};

// N background threads parked for the rest of the process (the VMs' vCPU threads); returns their kernel tids.
static int[] VcpuThreads(int n)
{
    var tids = new int[n];
    using var started = new CountdownEvent(n);
    for (var i = 0; i < n; i++)
    {
        var index = i;
        new Thread(() =>
        {
            tids[index] = GetTid(186 /* SYS_gettid */);
            started.Signal();
            Thread.Sleep(Timeout.Infinite); // parked in one syscall: no event after its block is written

        }, 64 * 1024) { IsBackground = true }.Start();
    }

    started.Wait();
    return tids;
}

// run_time_ns / run_cnt of each attached program, from /proc/self/fdinfo (kernel.bpf_stats_enabled=1).
static string RunStats(BpfObject obj)
{
    var line = "bpf_attach";
    foreach (var program in obj.AttachedPrograms)
    {
        var info = File.ReadAllLines($"/proc/self/fdinfo/{obj.ProgramFd(program)}")
            .Select(l => l.Split(':', 2)).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0].Trim(), kv => kv[1].Trim());
        double runs = double.Parse(info.GetValueOrDefault("run_cnt", "0")), ns = double.Parse(info.GetValueOrDefault("run_time_ns", "0"));
        line += $" {program}={(runs > 0 ? ns / runs : 0):F1}ns/run({runs:F0})";
    }

    return line;
}

// struct ts_block of selftest.bpf.c (tstore.h, TS_LOW 512).
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Block
{
    public uint Tgid;
    public uint Tid;
    public uint F1;
    public uint PendingField;
    public ulong StartNs;
    public fixed ulong Slots[512];

    public void Fill(int reasons, ulong first)
    {
        for (var r = 0; r < reasons; r++)
        {
            Slots[r] = first + (ulong)r;
        }
    }
}

[StructLayout(LayoutKind.Sequential)]
internal readonly record struct CountKey(uint Tgid, uint Tid, uint F1, uint F2);

[StructLayout(LayoutKind.Sequential)]
internal readonly record struct Pending(ulong StartNs, uint Tgid, uint Field);

[StructLayout(LayoutKind.Sequential)]
internal readonly record struct HistKey(uint Tgid, uint Field);

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Hist
{
    public fixed ulong Buckets[32];
    public ulong SumNs;
    public ulong Count;
}
