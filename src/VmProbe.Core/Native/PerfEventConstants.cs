namespace VmProbe.Native;

/// <summary>Constants of include/uapi/linux/perf_event.h the engine uses.</summary>
internal static class PerfEventConstants
{
    public const uint TypeHardware = 0;
    public const uint TypeSoftware = 1;
    public const uint TypeTracepoint = 2;
    public const uint TypeHwCache = 3;
    public const uint TypeRaw = 4;
    public const uint TypeBreakpoint = 5;

    public const ulong FormatTotalTimeEnabled = 1UL << 0;
    public const ulong FormatTotalTimeRunning = 1UL << 1;
    public const ulong FormatId = 1UL << 2;
    public const ulong FormatGroup = 1UL << 3;

    public const ulong FlagFdNoGroup = 1UL << 0;
    public const ulong FlagFdOutput = 1UL << 1;
    public const ulong FlagPidCgroup = 1UL << 2;
    public const ulong FlagFdCloexec = 1UL << 3;

    /// <summary>_IO('$', 0).</summary>
    public const ulong IocEnable = 0x2400;

    /// <summary>_IO('$', 1).</summary>
    public const ulong IocDisable = 0x2401;

    /// <summary>_IO('$', 3).</summary>
    public const ulong IocReset = 0x2403;

    /// <summary>_IOR('$', 7, __u64 *).</summary>
    public const ulong IocId = 0x80082407;

    /// <summary>_IOW('$', 6, char *): a tracepoint filter expression (ftrace syntax).</summary>
    public const ulong IocSetFilter = 0x40082406;

    public const ulong IocFlagGroup = 1;

    // Software event configs (enum perf_sw_ids), handy for tests and defaults.
    public const ulong SwCpuClock = 0;
    public const ulong SwTaskClock = 1;
    public const ulong SwPageFaults = 2;
    public const ulong SwContextSwitches = 3;
    public const ulong SwCpuMigrations = 4;

    public const ulong HwCpuCycles = 0;
    public const ulong HwInstructions = 1;
}
