namespace VmProbe.Procfs;

/// <summary>The families of <see cref="HostProcfsSource"/> (source <c>host</c>), each declared once.</summary>
internal static class HostProcfsFamilies
{
    public static readonly MetricDesc CpuSeconds = new("host_cpu_seconds_total", MetricType.Counter, "seconds",
        "Host CPU time by mode summed over all CPUs (/proc/stat); guest and guest_nice are time running KVM guests and are also counted in user and nice.", "mode");

    public static readonly MetricDesc ContextSwitches = new("host_context_switches_total", MetricType.Counter, "",
        "Context switches on the host since boot (ctxt in /proc/stat).");

    public static readonly MetricDesc SchedRunSeconds = new("host_sched_run_seconds_total", MetricType.Counter, "seconds",
        "Time tasks spent running on the host's CPUs, summed over CPUs (/proc/schedstat).");

    public static readonly MetricDesc SchedWaitSeconds = new("host_sched_wait_seconds_total", MetricType.Counter, "seconds",
        "Time runnable tasks spent waiting for a CPU on the host, summed over CPUs (/proc/schedstat): the host's CPU contention.");

    public static readonly MetricDesc SchedTimeslices = new("host_sched_timeslices_total", MetricType.Counter, "",
        "Timeslices run on the host's CPUs, summed over CPUs (/proc/schedstat).");

    public static readonly MetricDesc MemoryTotal = new("host_memory_total_bytes", MetricType.Gauge, "bytes",
        "Total usable RAM (MemTotal in /proc/meminfo).");

    public static readonly MetricDesc MemoryFree = new("host_memory_free_bytes", MetricType.Gauge, "bytes",
        "RAM left unused (MemFree in /proc/meminfo).");

    public static readonly MetricDesc MemoryAvailable = new("host_memory_available_bytes", MetricType.Gauge, "bytes",
        "Estimate of RAM available for new workloads without swapping (MemAvailable in /proc/meminfo).");

    public static readonly MetricDesc MemoryBuffers = new("host_memory_buffers_bytes", MetricType.Gauge, "bytes",
        "Block device buffers (Buffers in /proc/meminfo).");

    public static readonly MetricDesc MemoryCached = new("host_memory_cached_bytes", MetricType.Gauge, "bytes",
        "Page cache (Cached in /proc/meminfo).");

    public static readonly MetricDesc MemorySwapTotal = new("host_memory_swap_total_bytes", MetricType.Gauge, "bytes",
        "Total swap space (SwapTotal in /proc/meminfo).");

    public static readonly MetricDesc MemorySwapFree = new("host_memory_swap_free_bytes", MetricType.Gauge, "bytes",
        "Unused swap space (SwapFree in /proc/meminfo).");

    public static readonly MetricDesc Load1 = new("host_load1", MetricType.Gauge, "",
        "Host load average over 1 minute (/proc/loadavg).");

    public static readonly MetricDesc Load5 = new("host_load5", MetricType.Gauge, "",
        "Host load average over 5 minutes (/proc/loadavg).");

    public static readonly MetricDesc Load15 = new("host_load15", MetricType.Gauge, "",
        "Host load average over 15 minutes (/proc/loadavg).");

    public static readonly MetricDesc PressureCpuSome = new("host_pressure_cpu_some_seconds_total", MetricType.Counter, "seconds",
        "Time at least one task on the host was stalled waiting for a CPU (PSI some, /proc/pressure/cpu).");

    public static readonly MetricDesc PressureCpuFull = new("host_pressure_cpu_full_seconds_total", MetricType.Counter, "seconds",
        "Time all non-idle tasks on the host were stalled waiting for a CPU at once (PSI full, /proc/pressure/cpu).");

    public static readonly MetricDesc PressureMemorySome = new("host_pressure_memory_some_seconds_total", MetricType.Counter, "seconds",
        "Time at least one task on the host was stalled waiting for memory (PSI some, /proc/pressure/memory).");

    public static readonly MetricDesc PressureMemoryFull = new("host_pressure_memory_full_seconds_total", MetricType.Counter, "seconds",
        "Time all non-idle tasks on the host were stalled waiting for memory at once (PSI full, /proc/pressure/memory).");

    public static readonly MetricDesc PressureIoSome = new("host_pressure_io_some_seconds_total", MetricType.Counter, "seconds",
        "Time at least one task on the host was stalled waiting for I/O (PSI some, /proc/pressure/io).");

    public static readonly MetricDesc PressureIoFull = new("host_pressure_io_full_seconds_total", MetricType.Counter, "seconds",
        "Time all non-idle tasks on the host were stalled waiting for I/O at once (PSI full, /proc/pressure/io).");

    /// <summary>The /proc/meminfo field behind each memory family.</summary>
    internal static readonly (string Field, MetricDesc Desc)[] MemoryFields =
    {
        ("MemTotal", MemoryTotal),
        ("MemFree", MemoryFree),
        ("MemAvailable", MemoryAvailable),
        ("Buffers", MemoryBuffers),
        ("Cached", MemoryCached),
        ("SwapTotal", MemorySwapTotal),
        ("SwapFree", MemorySwapFree),
    };

    /// <summary>The PSI families of each file of /proc/pressure, in <see cref="PressureStall.Resources"/> order.</summary>
    internal static readonly (string Resource, MetricDesc Some, MetricDesc Full)[] Pressure =
    {
        ("cpu", PressureCpuSome, PressureCpuFull),
        ("memory", PressureMemorySome, PressureMemoryFull),
        ("io", PressureIoSome, PressureIoFull),
    };
}
