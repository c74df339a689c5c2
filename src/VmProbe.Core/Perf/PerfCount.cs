namespace VmProbe.Perf;

/// <summary>
/// One cumulative perf count: the raw value, the kernel's enabled/running times (ns), and the value scaled for multiplexing
/// (raw * enabled / running, 0 when running is 0). Sums of per-CPU or per-thread counts add each part.
/// </summary>
internal readonly record struct PerfCount(ulong Raw, ulong TimeEnabledNs, ulong TimeRunningNs, double Scaled)
{
    /// <summary>running / enabled: 1 when the event was on the PMU all the time, less when multiplexed, 0 when never enabled.</summary>
    public double RunningRatio => TimeEnabledNs == 0 ? 0 : (double)TimeRunningNs / TimeEnabledNs;

    public static PerfCount FromRaw(ulong raw, ulong enabled, ulong running)
    {
        var scaled = running == 0 ? 0 : (running >= enabled ? raw : raw * ((double)enabled / running));
        return new PerfCount(raw, enabled, running, scaled);
    }

    public static PerfCount operator +(PerfCount a, PerfCount b) =>
        new(a.Raw + b.Raw, a.TimeEnabledNs + b.TimeEnabledNs, a.TimeRunningNs + b.TimeRunningNs, a.Scaled + b.Scaled);
}
