// bench/promkeys: CPU, allocation and output bytes per rendered series of PromTextWriter with its series key cache
// (CacheSeries, the default) against without (CacheSeries = false: every line rendered from scratch, as before).
// The MetricSet has the runner's shape at N VMs x V vCPUs with 4 perf events (bench/run's config: 43 series per VM
// plus 51 host and probe series, 8,651 at N=200), label arrays kept per series as the sources keep them, and values
// that move as on an idle host: counters and times advance every cycle, ratios, thread counts and fault counts of
// idle VMs stay. Each cycle renders the same set with both writers, in alternating order, timing each Render with
// the thread's CPU clock (workstation non-concurrent GC: collections run on this thread and are counted).
//
//   dotnet run -c Release --project bench/promkeys -- [--vms 200] [--vcpus 4] [--cycles 1000] [--warmup 100] [--churn 0]
//
// --churn K replaces K VMs every cycle (new name and uuid: new series, the old ones gone).
using System.Globalization;
using System.Runtime.InteropServices;
using VmProbe;
using VmProbe.Prometheus;

int vms = 200, vcpus = 4, cycles = 1000, warmup = 100, churn = 0;
for (var i = 0; i + 1 < args.Length; i += 2)
{
    var value = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
    switch (args[i])
    {
        case "--vms": vms = value; break;
        case "--vcpus": vcpus = value; break;
        case "--cycles": cycles = value; break;
        case "--warmup": warmup = value; break;
        case "--churn": churn = value; break;
        default: Console.Error.WriteLine($"PromKeysBench: unknown argument {args[i]}"); return 2;
    }
}

var host = new FakeHost(vms, vcpus);
var set = new MetricSet();
var writers = new[] { new PromTextWriter("vmprobe") { CacheSeries = false }, new PromTextWriter("vmprobe") };
var names = new[] { "uncached", "cached" };
var cpu = new[] { new List<double>(), new List<double>() };
var allocated = new long[2];
long bytes = 0, series = 0;
for (var cycle = 0; cycle < warmup + cycles; cycle++)
{
    host.Churn(cycle, churn);
    host.Fill(set, cycle);
    byte[]? first = null;
    for (var k = 0; k < 2; k++)
    {
        var w = (cycle + k) % 2; // alternate which writer goes first
        var alloc = GC.GetAllocatedBytesForCurrentThread();
        var start = ThreadCpu.Nanoseconds();
        var output = writers[w].Render(set, out var result);
        var ns = ThreadCpu.Nanoseconds() - start;
        alloc = GC.GetAllocatedBytesForCurrentThread() - alloc;
        if (first is null)
        {
            first = output.ToArray();
        }
        else if (!output.Span.SequenceEqual(first))
        {
            Console.Error.WriteLine($"PromKeysBench: cycle {cycle}: the two writers' outputs differ");
            return 1;
        }

        if (cycle >= warmup)
        {
            cpu[w].Add(ns / 1000d);
            allocated[w] += alloc;
            if (w == 1)
            {
                bytes += output.Length;
                series += result.Series;
            }
        }
    }
}

var perCycleSeries = (double)series / cycles;
Console.WriteLine($"promkeys: {vms} VMs x {vcpus} vCPUs, {perCycleSeries:F0} series, {bytes / (double)cycles:F0} bytes per cycle ({bytes / (double)series:F1} bytes per series), {cycles} cycles after {warmup} warm-up, churn {churn} VMs per cycle, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
Console.WriteLine("| writer | CPU per cycle, median (p10-p90) | ns per series (median) | allocated per cycle |");
Console.WriteLine("|---|---:|---:|---:|");
for (var w = 0; w < 2; w++)
{
    var sorted = cpu[w].Order().ToArray();
    var median = sorted[sorted.Length / 2];
    Console.WriteLine(
        $"| {names[w]} | {median:F0} µs ({sorted[sorted.Length / 10]:F0}-{sorted[sorted.Length * 9 / 10]:F0}) | " +
        $"{median * 1000 / perCycleSeries:F0} | {allocated[w] / (double)cycles:F0} B |");
}

// A writer used once (ConvertTo-PromText, a one-off export): every key rendered and then dropped.
var oneShot = new[] { new List<double>(), new List<double>() };
for (var rep = 0; rep < 40; rep++)
{
    var w = rep % 2;
    var fresh = new PromTextWriter("vmprobe") { CacheSeries = w == 1 };
    var start = ThreadCpu.Nanoseconds();
    fresh.Render(set, out _);
    oneShot[w].Add((ThreadCpu.Nanoseconds() - start) / 1000d);
}

Console.WriteLine($"one render by a new writer (median of 20): uncached {oneShot[0].Order().ElementAt(10):F0} µs, cached {oneShot[1].Order().ElementAt(10):F0} µs");

// What each writer keeps between cycles (buffer, name tables, and for the cached one its keys).
var retainedUncached = Retained(set, cache: false);
var retainedCached = Retained(set, cache: true);
Console.WriteLine($"retained between cycles: uncached {retainedUncached / 1024d:F0} KiB, cached {retainedCached / 1024d:F0} KiB");
return 0;

[System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
static long Retained(MetricSet set, bool cache)
{
    var before = GC.GetTotalMemory(forceFullCollection: true);
    var writer = new PromTextWriter("vmprobe") { CacheSeries = cache };
    writer.Render(set, out _);
    writer.Render(set, out _);
    var after = GC.GetTotalMemory(forceFullCollection: true);
    GC.KeepAlive(writer);
    return after - before;
}

/// <summary>The runner's families at bench/run's config, with label arrays kept per series as the sources keep them.</summary>
internal sealed class FakeHost(int vms, int vcpus)
{
    private static readonly string[] Events = ["task_clock", "context_switches", "page_faults", "cpu_migrations"];
    private readonly List<Vm> _vms = Enumerable.Range(0, vms).Select(i => new Vm(i, vcpus)).ToList();
    private int _next = vms;

    public void Churn(int cycle, int count)
    {
        for (var i = 0; i < count; i++)
        {
            _vms[(cycle * count + i) % _vms.Count] = new Vm(_next++, vcpus);
        }
    }

    public void Fill(MetricSet set, int cycle)
    {
        set.Reset();
        var c = (double)cycle;
        set.Family("probe_cycle_duration_seconds", MetricType.Gauge, "Duration of the last cycle.").Add(0.0123 + (cycle % 7 * 1e-4));
        set.Family("probe_last_cycle_timestamp_seconds", MetricType.Gauge, "Time of the last cycle.").Add(1764630000.123 + c);
        set.Family("host_context_switches_total", MetricType.Counter, "Context switches.").Add(123456789 + (cycle * 997));
        var hostCpu = set.Family("host_cpu_seconds_total", MetricType.Counter, "Host CPU time by mode.", "mode");
        foreach (var mode in CpuModes)
        {
            hostCpu.Add(1234.56 + (c * mode.Length / 100), mode);
        }

        for (var i = 0; i < 36; i++)
        {
            set.Family("host_gauge_" + i, MetricType.Gauge, "A host gauge.").Add(i % 3 == 0 ? 1e9 + cycle : i);
        }

        var run = set.Family("domain_sched_run_seconds_total", MetricType.Counter, "Run time.", "domain", "uuid");
        var wait = set.Family("domain_sched_wait_seconds_total", MetricType.Counter, "Wait time.", "domain", "uuid");
        var slices = set.Family("domain_sched_timeslices_total", MetricType.Counter, "Timeslices.", "domain", "uuid");
        var minor = set.Family("domain_minor_page_faults_total", MetricType.Counter, "Minor faults.", "domain", "uuid");
        var major = set.Family("domain_major_page_faults_total", MetricType.Counter, "Major faults.", "domain", "uuid");
        var guest = set.Family("domain_cpu_guest_seconds_total", MetricType.Counter, "Guest time.", "domain", "uuid");
        var threads = set.Family("domain_threads", MetricType.Gauge, "Threads.", "domain", "uuid");
        var vcpuRun = set.Family("domain_vcpu_sched_run_seconds_total", MetricType.Counter, "vCPU run time.", "domain", "uuid", "vcpu");
        var vcpuWait = set.Family("domain_vcpu_sched_wait_seconds_total", MetricType.Counter, "vCPU wait time.", "domain", "uuid", "vcpu");
        var vcpuSlices = set.Family("domain_vcpu_sched_timeslices_total", MetricType.Counter, "vCPU timeslices.", "domain", "uuid", "vcpu");
        var perf = set.Family("domain_perf_events_total", MetricType.Counter, "Perf events.", "domain", "uuid", "event");
        var ratio = set.Family("domain_perf_scaling_ratio", MetricType.Gauge, "Scaling ratio.", "domain", "uuid", "event");
        var vcpuPerf = set.Family("domain_vcpu_perf_events_total", MetricType.Counter, "vCPU perf events.", "domain", "uuid", "vcpu", "event");
        foreach (var vm in _vms)
        {
            var t = c + vm.Id;
            run.Add((t * 0.0101) + 0.000000123, vm.Labels);
            wait.Add((t * 0.00031) + 0.000000457, vm.Labels);
            slices.Add(t * 211, vm.Labels);
            minor.Add(140 + (cycle / 60), vm.Labels); // an idle VM's faults rarely move
            major.Add(0, vm.Labels);
            guest.Add(0, vm.Labels);
            threads.Add(4 + vcpus, vm.Labels);
            for (var e = 0; e < Events.Length; e++)
            {
                perf.Add(e < 2 ? t * 104729 * (e + 1) : 3 + (cycle / 100), vm.EventLabels[e]);
                ratio.Add(1, vm.EventLabels[e]);
            }

            for (var v = 0; v < vcpus; v++)
            {
                vcpuRun.Add((t * 0.0025) + (v * 0.000000311), vm.VcpuLabels[v]);
                vcpuWait.Add((t * 0.00007) + (v * 0.000000173), vm.VcpuLabels[v]);
                vcpuSlices.Add((t * 53) + v, vm.VcpuLabels[v]);
                for (var e = 0; e < Events.Length; e++)
                {
                    vcpuPerf.Add(e < 2 ? (t * 26183 * (e + 1)) + v : (cycle / 100) + v, vm.VcpuEventLabels[(v * Events.Length) + e]);
                }
            }
        }
    }

    private static readonly string[] CpuModes = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice"];

    private sealed class Vm
    {
        public Vm(int id, int vcpus)
        {
            Id = id;
            var name = "vm" + id.ToString(CultureInfo.InvariantCulture);
            var uuid = new Guid(id, (short)(id >> 16), 0x4a5b, [0x81, 0x2c, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]).ToString();
            Labels = [name, uuid];
            EventLabels = Events.Select(e => new[] { name, uuid, e }).ToArray();
            VcpuLabels = Enumerable.Range(0, vcpus).Select(v => new[] { name, uuid, v.ToString(CultureInfo.InvariantCulture) }).ToArray();
            VcpuEventLabels = VcpuLabels.SelectMany(v => Events.Select(e => new[] { name, uuid, v[2], e })).ToArray();
        }

        public int Id { get; }

        public string[] Labels { get; }

        public string[][] EventLabels { get; }

        public string[][] VcpuLabels { get; }

        public string[][] VcpuEventLabels { get; }
    }
}

internal static partial class ThreadCpu
{
    private const int ClockThreadCpuTimeId = 3;

    public static long Nanoseconds()
    {
        ClockGetTime(ClockThreadCpuTimeId, out var ts);
        return (ts.Seconds * 1_000_000_000L) + ts.Nanoseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec ts);
}
