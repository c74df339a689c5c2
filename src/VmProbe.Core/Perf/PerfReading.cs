namespace VmProbe.Perf;

/// <summary>One cumulative count of one event on one target, as returned by <see cref="PerfSession.GetReadings"/>.</summary>
internal readonly record struct PerfReading(PerfTarget Target, PerfEventSpec Event, PerfCount Count)
{
    public ulong Raw => Count.Raw;

    public ulong TimeEnabledNs => Count.TimeEnabledNs;

    public ulong TimeRunningNs => Count.TimeRunningNs;

    public double Scaled => Count.Scaled;

    public double RunningRatio => Count.RunningRatio;
}
