namespace VmProbe;

/// <summary>
/// A source whose set-up is slow and needs nothing of a cycle (loading and verifying eBPF programs). The cycle calls
/// <see cref="BeginSetup"/> once, before its first discovery, and the source runs that set-up on a pool thread: beside
/// the perf opens, the first delay and the other sources' set-ups instead of after them. Its first
/// <see cref="IMetricSource.Collect"/> waits for the set-up and reports its outcome as it did when it set up there itself.
/// </summary>
internal interface IBackgroundSetup : IMetricSource
{
    /// <summary>Starts the set-up (once; later calls do nothing) and returns at once; never throws for a failed set-up.</summary>
    void BeginSetup();
}
