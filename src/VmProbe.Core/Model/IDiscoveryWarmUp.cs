namespace VmProbe;

/// <summary>
/// A discovery with follow-up work that its next <see cref="IDomainDiscovery.Discover"/> would do and that reads no
/// value (the process scan re-reads the names of the threads it saw first: QEMU names a thread just after creating it).
/// The cycle calls <see cref="WarmUp"/> once, inside the first delay beside the sources' <see cref="IWarmUpSource"/>,
/// so that the first collection's discovery only looks for changes.
/// </summary>
internal interface IDiscoveryWarmUp
{
    /// <summary>Does now what the next discovery would do for the domains already found; finds no new ones.</summary>
    void WarmUp();
}
