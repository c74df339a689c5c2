namespace VmProbe;

/// <summary>
/// A source with a slow one-time set-up that needs no domains (loading and verifying eBPF programs). When the loop
/// prepares the first interval (some source is an <see cref="IPreparedSource"/>), the cycle calls <see cref="SetUp"/>
/// after the prepared sources, on the same thread: the set-up then overlaps the first delay instead of lengthening the
/// first collection, which <c>--once</c> waits for. Without that, the source sets up in its first Collect as before.
/// </summary>
internal interface IEarlySetup : IMetricSource
{
    /// <summary>Sets up (once; later calls do nothing) and logs what it chose; a set-up that cannot run is a choice, not a throw.</summary>
    void SetUp(IProbeLog log);
}
