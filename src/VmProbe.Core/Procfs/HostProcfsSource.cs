
namespace VmProbe.Procfs;

/// <summary>
/// Host-wide metrics from procfs (source name <c>host</c>): CPU time by mode, scheduler run/wait time, memory,
/// load, PSI and context switches. Series whose file the kernel lacks (/proc/schedstat, /proc/pressure) are omitted,
/// and that is logged once at Info.
/// </summary>
internal sealed class HostProcfsSource : IMetricSource
{
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

        var cpu = metrics.Family(HostProcfsFamilies.CpuSeconds);
        for (var i = 0; i < CpuModeTimes.ModeNames.Length; i++)
        {
            cpu.Add(stat.Total[i], CpuModeTimes.ModeNames[i]);
        }

        metrics.Family(HostProcfsFamilies.ContextSwitches)
            .Add(stat.ContextSwitches);
        if (context.Shared is { } shared)
        {
            var t = stat.Total;
            var activity = shared.Get<DomainActivityShare>();
            activity.HostBusySeconds = t.User + t.Nice + t.System + t.Irq + t.SoftIrq;
            activity.HostTotalSeconds = activity.HostBusySeconds + t.Idle + t.IoWait + t.Steal; // guest is inside user

        }
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
        metrics.Family(HostProcfsFamilies.SchedRunSeconds)
            .Add(s.RunSeconds);
        metrics.Family(HostProcfsFamilies.SchedWaitSeconds)
            .Add(s.WaitSeconds);
        metrics.Family(HostProcfsFamilies.SchedTimeslices)
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

        foreach (var (field, desc) in HostProcfsFamilies.MemoryFields)
        {
            if (mem.TryGet(field, out var bytes))
            {
                metrics.Family(desc).Add(bytes);
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
        metrics.Family(HostProcfsFamilies.Load1).Add(l.Load1);
        metrics.Family(HostProcfsFamilies.Load5).Add(l.Load5);
        metrics.Family(HostProcfsFamilies.Load15).Add(l.Load15);
    }

    private void CollectPressure(CycleContext context, MetricSet metrics)
    {
        foreach (var (resource, some, full) in HostProcfsFamilies.Pressure)
        {
            var psi = _proc.ReadPressure(resource);
            if (psi is null)
            {
                ReportMissing(context, "pressure/" + resource, $"host_pressure_{resource}_* series are omitted (kernel without PSI or psi=0)");
                continue;
            }

            metrics.Family(some).Add(psi.SomeSeconds);
            if (psi.FullSeconds is { } fullSeconds)
            {
                metrics.Family(full).Add(fullSeconds);
            }
        }
    }

    private void ReportMissing(CycleContext context, string file, string consequence)
    {
        if (_reportedMissing.Add(file) && context.Log.IsEnabled(LogLevel.Info))
        {
            context.Log.Write(LogLevel.Info, $"{Path.Combine(_proc.ProcDirectory, file)} does not exist: {consequence}.");
        }
    }
}
