namespace VmProbe;

/// <summary>
/// A source with work its first collection would do that reads no value: finding and opening what it will read (KVM
/// stats fds). The loop calls <see cref="WarmUp"/> once, after the counting sources' <see cref="IPreparedSource.Prepare"/>,
/// inside the first delay, where the cycle's thread has nothing else to do; the first collection then only reads. Without
/// a counting source there is no first delay and no warm-up: <see cref="IMetricSource.Collect"/> must work alone.
/// </summary>
internal interface IWarmUpSource : IMetricSource
{
    /// <summary>
    /// Open what the first collection of <paramref name="context"/>'s domains will read; read nothing. Parts that fail go
    /// to <see cref="CycleContext.ItemErrors"/> as in a collection.
    /// </summary>
    void WarmUp(CycleContext context);
}
