// bench/procfs-reader's driver: ProcfsBench CYCLES [WARMUP]
// Discovers the (fake) QEMU processes like the runner, then runs DomainProcfsSource.Collect with files and with the
// BPF task iterator in turn (A B A B ...), each cycle timed in this thread's CPU time (CLOCK_THREAD_CPUTIME_ID: the
// syscalls and the iterator's in-kernel walk run in this thread). Prints the median and mean us per cycle of each.
using System.Runtime.InteropServices;
using VmProbe;
using VmProbe.Bpf;
using VmProbe.Procfs;

var cycles = args.Length > 0 ? int.Parse(args[0]) : 200;
var warmup = args.Length > 1 ? int.Parse(args[1]) : 100;
using var discovery = new ProcessDomainDiscovery();
var domains = discovery.Discover(NullProbeLog.Instance, default);
using var files = new DomainProcfsSource();
using var iterated = new DomainProcfsSource(openIterator: () => TaskIterator.Open());
var sources = new[] { files, iterated };
var times = new[] { new List<double>(), new List<double>() };
var sets = new[] { new MetricSet(), new MetricSet() };
for (var i = 0; i < warmup + cycles; i++)
{
    for (var s = 0; s < 2; s++)
    {
        sets[s].Reset();
        var context = new CycleContext(domains, DateTimeOffset.UtcNow, NullProbeLog.Instance, default);
        var start = ThreadCpu();
        sources[s].Collect(context, sets[s]);
        var us = (ThreadCpu() - start) / 1000.0;
        if (i >= warmup)
        {
            times[s].Add(us);
        }
    }
}

if (iterated.Reader != ThreadReader.TaskIterator)
{
    Console.Error.WriteLine($"procfsbench: the iterator did not load ({iterated.Reader})");
    return 1;
}

var series = sets.Select(set => set.Families.Sum(f => f.Samples.Count)).ToArray();
var threads = domains.Sum(d => Directory.GetDirectories($"/proc/{d.Pid}/task").Length);
Console.WriteLine($"domains={domains.Count} threads={threads} cycles={cycles} series_files={series[0]} series_iterator={series[1]} kept_fds_files={files.KeptFdCount} kept_fds_iterator={iterated.KeptFdCount}");
Console.WriteLine($"files_us_median={Median(times[0]):F0} files_us_mean={times[0].Average():F0} iterator_us_median={Median(times[1]):F0} iterator_us_mean={times[1].Average():F0} ratio_median={Median(times[1]) / Median(times[0]):F3}");
return 0;

static double Median(List<double> values)
{
    var sorted = values.OrderBy(v => v).ToArray();
    return sorted[sorted.Length / 2];
}

static unsafe long ThreadCpu()
{
    long* ts = stackalloc long[2];
    clock_gettime(3 /* CLOCK_THREAD_CPUTIME_ID */, ts);
    return (ts[0] * 1_000_000_000L) + ts[1];
}

[DllImport("libc", EntryPoint = "clock_gettime")]
static extern unsafe int clock_gettime(int clock, long* ts);
