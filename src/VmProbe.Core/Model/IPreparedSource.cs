namespace VmProbe;

/// <summary>
/// A source whose values are counts over an interval (perf: open the counters, let them count, read them).
/// The loop calls <see cref="Prepare"/> once before the first cycle, waits one delay, then collects; from then on the
/// source keeps counting between cycles and each <see cref="IMetricSource.Collect"/> reads what it needs.
/// <c>--once</c> does the same: prepare, wait one delay, collect once.
/// </summary>
internal interface IPreparedSource : IMetricSource
{
    /// <summary>Open whatever must count during the coming interval, for the domains of <paramref name="context"/>.</summary>
    void Prepare(CycleContext context);
}
