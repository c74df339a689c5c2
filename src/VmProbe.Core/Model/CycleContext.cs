namespace VmProbe;

/// <summary>What one collection cycle hands to every source: the domains discovered this cycle, the time, the log.</summary>
public sealed class CycleContext
{
    public CycleContext(IReadOnlyList<VmDomain> domains, DateTimeOffset timestamp, IProbeLog log, CancellationToken cancellationToken)
    {
        Domains = domains;
        Timestamp = timestamp;
        Log = log;
        CancellationToken = cancellationToken;
    }

    /// <summary>Running domains found this cycle (by libvirt or by process scan). Sources must tolerate a domain whose process vanished.</summary>
    public IReadOnlyList<VmDomain> Domains { get; }

    public DateTimeOffset Timestamp { get; }

    public IProbeLog Log { get; }

    public CancellationToken CancellationToken { get; }

    /// <summary>
    /// What the discovery and the sources share within a cycle (for example the /proc/PID/task listings, so that each task
    /// directory is listed once per cycle); null outside the loop's cycle, where nothing is shared.
    /// </summary>
    public CycleState? Shared { get; init; }

    /// <summary>
    /// Where a source reports a part it could not read while it goes on with the rest (a file that exists but cannot be
    /// read, a domain whose process vanished): the cycle counts them in <c>probe_errors_total</c>, the cmdlets write
    /// each as a non-terminating error. Null when nobody listens, and then the source throws as before.
    /// </summary>
    public ICollection<VmProbeException>? ItemErrors { get; init; }
}
