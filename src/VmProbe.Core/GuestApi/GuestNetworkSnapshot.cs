using VmProbe.Libvirt;

namespace VmProbe.GuestApi;

/// <summary>
/// The running domains' addresses, loaded once and shared for a short while: without it every connection (anyone's)
/// is a full libvirt listing on its own blocked pool thread. One load at a time (later callers await the same task),
/// reused for <c>ttl</c>; an unknown peer may ask for a fresher one once it is <c>minAgeForRefresh</c> old (a guest
/// that just booted is not refused for 2 s), and a failed load is never reused.
/// </summary>
internal sealed class GuestNetworkSnapshot
{
    private readonly Func<IReadOnlyList<DomainNetwork>> load;
    private readonly TimeSpan ttl;
    private readonly TimeSpan minAgeForRefresh;
    private readonly object gate = new();
    private Task<IReadOnlyList<DomainNetwork>>? current;
    private long loadedAt;

    public GuestNetworkSnapshot(Func<IReadOnlyList<DomainNetwork>> load, TimeSpan? ttl = null, TimeSpan? minAgeForRefresh = null)
    {
        this.load = load ?? throw new ArgumentNullException(nameof(load));
        this.ttl = ttl ?? TimeSpan.FromSeconds(2);
        this.minAgeForRefresh = minAgeForRefresh ?? TimeSpan.FromMilliseconds(500);
    }

    /// <summary>Maps the peer on the shared snapshot; the wait is asynchronous (no pool thread blocks on libvirt but the one loading).</summary>
    public async ValueTask<GuestIdentity> ResolveAsync(GuestPeer peer, CancellationToken cancellationToken)
    {
        var (snapshot, age) = Get(refreshOlderThan: ttl);
        try
        {
            return GuestAddressMap.Resolve(peer, await snapshot.WaitAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (GuestApiRefusedException refused) when (refused.Reason == GuestRefusalReason.UnknownPeer && age >= minAgeForRefresh)
        {
            return GuestAddressMap.Resolve(peer, await Get(refreshOlderThan: minAgeForRefresh).Snapshot.WaitAsync(cancellationToken).ConfigureAwait(false));
        }
    }

    private (Task<IReadOnlyList<DomainNetwork>> Snapshot, TimeSpan Age) Get(TimeSpan refreshOlderThan)
    {
        lock (gate)
        {
            var age = TimeSpan.FromMilliseconds(Environment.TickCount64 - loadedAt);
            if (current is { } task && !task.IsFaulted && !task.IsCanceled && (!task.IsCompleted || age < refreshOlderThan))
            {
                return (task, age);
            }

            loadedAt = Environment.TickCount64;
            current = Task.Run(load);
            return (current, TimeSpan.Zero);
        }
    }
}
