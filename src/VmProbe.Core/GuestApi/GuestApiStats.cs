using System.Collections.Concurrent;

namespace VmProbe.GuestApi;

/// <summary>
/// The endpoint's counters (refusals by reason, sessions) and the once-per-peer log bookkeeping. Written from the
/// endpoint's threads, read by the source's Collect on the collection loop: lock-free, never blocking it.
/// </summary>
public sealed class GuestApiStats
{
    private readonly long[] refusals = new long[Enum.GetValues<GuestRefusalReason>().Length];
    private readonly ConcurrentDictionary<string, byte> loggedPeers = new(StringComparer.Ordinal);
    private readonly int maxLoggedPeers;
    private long sessionsStarted;
    private int sessionsActive;

    public GuestApiStats(int maxLoggedPeers = 4096) => this.maxLoggedPeers = maxLoggedPeers;

    public long SessionsStarted => Interlocked.Read(ref sessionsStarted);

    public int SessionsActive => Volatile.Read(ref sessionsActive);

    public long Refusals(GuestRefusalReason reason) => Interlocked.Read(ref refusals[(int)reason]);

    public long TotalRefusals => Enum.GetValues<GuestRefusalReason>().Sum(Refusals);

    internal void CountRefusal(GuestRefusalReason reason) => Interlocked.Increment(ref refusals[(int)reason]);

    internal void SessionStarted()
    {
        Interlocked.Increment(ref sessionsStarted);
        Interlocked.Increment(ref sessionsActive);
    }

    internal void SessionEnded() => Interlocked.Decrement(ref sessionsActive);

    /// <summary>True the first time <paramref name="key"/> (peer and what happened) is seen; a full table logs no more.</summary>
    internal bool FirstTime(string key) => loggedPeers.Count < maxLoggedPeers && loggedPeers.TryAdd(key, 0);
}

/// <summary>Concurrent sessions per VM and in total; a slot is held from acceptance to the final summary.</summary>
internal sealed class GuestSessionSlots
{
    private readonly Dictionary<string, int> perVm = new(StringComparer.Ordinal);
    private readonly GuestApiLimits limits;
    private int total;

    public GuestSessionSlots(GuestApiLimits limits) => this.limits = limits;

    public IDisposable Acquire(GuestIdentity identity)
    {
        var key = identity.Uuid == Guid.Empty ? "name:" + identity.Name : identity.Uuid.ToString("D");
        lock (perVm)
        {
            if (total >= limits.MaxSessions)
            {
                throw new GuestApiRefusedException(GuestRefusalReason.TooManySessions, $"the host already serves {total} sessions, its limit; try again later");
            }

            var mine = perVm.GetValueOrDefault(key);
            if (mine >= limits.MaxSessionsPerVm)
            {
                throw new GuestApiRefusedException(GuestRefusalReason.TooManySessionsForVm, $"domain '{identity.Name}' already has {mine} sessions, its limit; end one first");
            }

            perVm[key] = mine + 1;
            total++;
        }

        return new Slot(this, key);
    }

    private void Release(string key)
    {
        lock (perVm)
        {
            total--;
            if (--perVm[key] == 0)
            {
                perVm.Remove(key);
            }
        }
    }

    private sealed class Slot(GuestSessionSlots owner, string key) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                owner.Release(key);
            }
        }
    }
}
