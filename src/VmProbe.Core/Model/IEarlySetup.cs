namespace VmProbe;

/// <summary>
/// A source with a slow one-time set-up that needs no domains (loading and verifying eBPF programs). When the loop
/// prepares the first interval (some source is an <see cref="IPreparedSource"/>), the cycle calls <see cref="SetUp"/>
/// on a thread of its own from before the first discovery where the log takes lines from any thread, else after the
/// prepared sources on the cycle's thread (Composition/EarlySetups); either way the first Collect comes after it.
/// Without a prepared source, the source sets up in its first Collect. SetUp must touch only the source's own state.
/// </summary>
internal interface IEarlySetup : IMetricSource
{
    /// <summary>Sets up (once; later calls do nothing) and logs what it chose; a set-up that cannot run is a choice, not a throw.</summary>
    void SetUp(IProbeLog log);
}
