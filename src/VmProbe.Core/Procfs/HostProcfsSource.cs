using VmProbe.Prometheus;

namespace VmProbe.Procfs;

/// <summary>
/// Host-wide metrics from procfs (source name <c>host</c>): CPU time by mode, scheduler run/wait time, memory,
/// load, PSI and context switches. Series whose file the kernel lacks (/proc/schedstat, /proc/pressure) are omitted,
/// and that is logged once at Info.
/// </summary>
public sealed class HostProcfsSource : IMetricSource
{
    private static readonly (string Field, string Metric, string Help)[] MemoryFields =
    {
        ("MemTotal", "host_memory_total_bytes", "Total usable RAM (MemTotal in /proc/meminfo)."),
        ("MemFree", "host_memory_free_bytes", "RAM left unused (MemFree in /proc/meminfo)."),
        ("MemAvailable", "host_memory_available_bytes", "Estimate of RAM available for new workloads without swapping (MemAvailable in /proc/meminfo)."),
        ("Buffers", "host_memory_buffers_bytes", "Block device buffers (Buffers in /proc/meminfo)."),
        ("Cached", "host_memory_cached_bytes", "Page cache (Cached in /proc/meminfo)."),
        ("SwapTotal", "host_memory_swap_total_bytes", "Total swap space (SwapTotal in /proc/meminfo)."),
        ("SwapFree", "host_memory_swap_free_bytes", "Unused swap space (SwapFree in /proc/meminfo)."),
    };

    private readonly ProcFs _proc;
    private readonly HashSet<string> _reportedMissing = new(StringComparer.Ordinal);

    public HostProcfsSource(string root = "/") => _proc = new ProcFs(root);

    public const string SourceName = "host";

    public string Name => SourceName;

    public void Collect(CycleContext context, MetricSet metrics)
    {
        // One unreadable file costs its own series, not the others' (when someone collects the item errors).
        Collect(context, metrics, CollectStat);
        Collect(context, metrics, CollectSchedStat);
        Collect(context, metrics, CollectMemory);
        Collect(context, metrics, CollectLoad);
        Collect(context, metrics, CollectPressure);
    }

    private static void Collect(CycleContext context, MetricSet metrics, Action<CycleContext, MetricSet> part)
    {
        try
        {
            part(context, metrics);
        }
        catch (VmProbeException error) when (context.ItemErrors is { } errors)
        {
            errors.Add(error);
        }
    }

    public void Dispose() => _proc.Dispose();

    private void CollectStat(CycleContext context, MetricSet metrics)
    {
        var stat = _proc.ReadStat();
        if (stat is null)
        {
            ReportMissing(context, "stat", "host CPU and context-switch series are omitted");
            return;
        }

        var cpu = metrics.Family("host_cpu_seconds_total", MetricType.Counter,
            "Host CPU time by mode summed over all CPUs (/proc/stat); guest and guest_nice are time running KVM guests and are also counted in user and nice.", "mode");
        for (var i = 0; i < CpuModeTimes.ModeNames.Length; i++)
        {
            cpu.Add(stat.Total[i], CpuModeTimes.ModeNames[i]);
        }

        metrics.Family("host_context_switches_total", MetricType.Counter, "Context switches on the host since boot (ctxt in /proc/stat).")
            .Add(stat.ContextSwitches);
    }

    private void CollectSchedStat(CycleContext context, MetricSet metrics)
    {
        var sched = _proc.ReadHostSchedStat();
        if (sched is null)
        {
            ReportMissing(context, "schedstat", "host_sched_* series are omitted (kernel without CONFIG_SCHEDSTATS or schedstats disabled)");
            return;
        }

        var s = sched.Value;
        metrics.Family("host_sched_run_seconds_total", MetricType.Counter, "Time tasks spent running on the host's CPUs, summed over CPUs (/proc/schedstat).")
            .Add(s.RunSeconds);
        metrics.Family("host_sched_wait_seconds_total", MetricType.Counter, "Time runnable tasks spent waiting for a CPU on the host, summed over CPUs (/proc/schedstat): the host's CPU contention.")
            .Add(s.WaitSeconds);
        metrics.Family("host_sched_timeslices_total", MetricType.Counter, "Timeslices run on the host's CPUs, summed over CPUs (/proc/schedstat).")
            .Add(s.Timeslices);
    }

    private void CollectMemory(CycleContext context, MetricSet metrics)
    {
        var mem = _proc.ReadMemInfo();
        if (mem is null)
        {
            ReportMissing(context, "meminfo", "host_memory_* series are omitted");
            return;
        }

        foreach (var (field, metric, help) in MemoryFields)
        {
            if (mem.TryGet(field, out var bytes))
            {
                metrics.Family(metric, MetricType.Gauge, help).Add(bytes);
            }
        }
    }

    private void CollectLoad(CycleContext context, MetricSet metrics)
    {
        var load = _proc.ReadLoadAverage();
        if (load is null)
        {
            ReportMissing(context, "loadavg", "host_load* series are omitted");
            return;
        }

        var l = load.Value;
        metrics.Family("host_load1", MetricType.Gauge, "Host load average over 1 minute (/proc/loadavg).").Add(l.Load1);
        metrics.Family("host_load5", MetricType.Gauge, "Host load average over 5 minutes (/proc/loadavg).").Add(l.Load5);
        metrics.Family("host_load15", MetricType.Gauge, "Host load average over 15 minutes (/proc/loadavg).").Add(l.Load15);
    }

    private void CollectPressure(CycleContext context, MetricSet metrics)
    {
        foreach (var resource in PressureStall.Resources)
        {
            var psi = _proc.ReadPressure(resource);
            if (psi is null)
            {
                ReportMissing(context, "pressure/" + resource, $"host_pressure_{resource}_* series are omitted (kernel without PSI or psi=0)");
                continue;
            }

            metrics.Family($"host_pressure_{resource}_some_seconds_total", MetricType.Counter,
                $"Time at least one task on the host was stalled waiting for {PressureNoun(resource)} (PSI some, /proc/pressure/{resource}).")
                .Add(psi.SomeSeconds);
            if (psi.FullSeconds is { } full)
            {
                metrics.Family($"host_pressure_{resource}_full_seconds_total", MetricType.Counter,
                    $"Time all non-idle tasks on the host were stalled waiting for {PressureNoun(resource)} at once (PSI full, /proc/pressure/{resource}).")
                    .Add(full);
            }
        }
    }

    private static string PressureNoun(string resource) => resource switch
    {
        "cpu" => "a CPU",
        "memory" => "memory",
        _ => "I/O",
    };

    private void ReportMissing(CycleContext context, string file, string consequence)
    {
        if (_reportedMissing.Add(file) && context.Log.IsEnabled(LogLevel.Info))
        {
            context.Log.Write(LogLevel.Info, $"{Path.Combine(_proc.ProcDirectory, file)} does not exist: {consequence}.");
        }
    }
}
