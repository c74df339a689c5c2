namespace VmProbe;

/// <summary>
/// A discovery that can find two claimants for one domain (a name or uuid claimed by two processes): it counts the
/// claimants it refused, exported as <c>probe_discovery_conflicts_total</c>.
/// </summary>
internal interface IDiscoveryConflicts
{
    /// <summary>Claimants refused since start (each counted once).</summary>
    long Conflicts { get; }
}
