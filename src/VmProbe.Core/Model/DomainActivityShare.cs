namespace VmProbe;

/// <summary>
/// What the host and each domain did this cycle, as cumulative counters, for sources that divide something among
/// domains (the power source's energy model): the host source writes the host's busy CPU time, the procfs source each
/// domain's CPU time, the perf source the host's and each domain's CPU cycles where a cycles event counts. Writers run
/// before readers in <c>SourceRegistry</c>'s order. Cleared at every cycle's start, so a value present is this cycle's.
/// </summary>
public sealed class DomainActivityShare : ICycleScoped
{
    private readonly Dictionary<Guid, double> _cpuSeconds = new();
    private readonly Dictionary<Guid, double> _cycles = new();

    /// <summary>Host CPU time spent not idle (user, nice, system, irq, softirq; guest is inside user, steal is time this host did not run), summed over CPUs, or null.</summary>
    public double? HostBusySeconds { get; set; }

    /// <summary>Host CPU time in every mode (busy, idle, iowait, steal), summed over CPUs, or null: the busy fraction's denominator.</summary>
    public double? HostTotalSeconds { get; set; }

    /// <summary>CPU cycles counted system-wide, or null when no cycles event counts on the host.</summary>
    public double? HostCycles { get; set; }

    public void SetCpuSeconds(Guid uuid, double seconds) => _cpuSeconds[uuid] = seconds;

    public void SetCycles(Guid uuid, double cycles) => _cycles[uuid] = cycles;

    public double? CpuSeconds(Guid uuid) => _cpuSeconds.TryGetValue(uuid, out var value) ? value : null;

    public double? Cycles(Guid uuid) => _cycles.TryGetValue(uuid, out var value) ? value : null;

    public void BeginCycle()
    {
        _cpuSeconds.Clear();
        _cycles.Clear();
        HostBusySeconds = null;
        HostTotalSeconds = null;
        HostCycles = null;
    }
}
