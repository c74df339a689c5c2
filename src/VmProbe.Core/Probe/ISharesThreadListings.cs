using VmProbe.Procfs;

namespace VmProbe.Probe;

/// <summary>
/// A discovery that lists /proc/PID/task itself (the process scan): <see cref="ProbeCycle"/> hands it the cycle's
/// <see cref="ThreadListingCache"/> so that the sources reuse its listings instead of listing each domain again.
/// </summary>
public interface ISharesThreadListings
{
    /// <summary>Where the discovery stores the listings it makes; null when nobody shares them.</summary>
    ThreadListingCache? ThreadListings { get; set; }
}
