namespace VmProbe.GuestApi;

/// <summary>
/// The guard rails of the guest endpoint. Every number bounds what one guest (or all of them) can make the host hold:
/// bytes read before a request is judged, perf fds per session, sessions, wake-ups per second and session lifetime.
/// </summary>
public sealed record GuestApiLimits
{
    public static GuestApiLimits Default { get; } = new();

    /// <summary>A request line longer than this (newline included) is refused unread.</summary>
    public int MaxRequestBytes { get; init; } = 4096;

    /// <summary>Events per request (each one is a perf fd per QEMU thread of the VM).</summary>
    public int MaxEvents { get; init; } = 8;

    /// <summary>Concurrent sessions of one VM.</summary>
    public int MaxSessionsPerVm { get; init; } = 2;

    /// <summary>Concurrent sessions of all VMs.</summary>
    public int MaxSessions { get; init; } = 16;

    /// <summary>Open connections from one source address (or vsock CID), checked before the global cap: one stranger cannot take every slot.</summary>
    public int MaxConnectionsPerPeer { get; init; } = 4;

    /// <summary>The shortest interval between two streamed lines.</summary>
    public int MinIntervalMs { get; init; } = 100;

    /// <summary>The longest session, also for "until closed" (the guest asks again after it).</summary>
    public int MaxDurationMs { get; init; } = 3_600_000;

    /// <summary>How long a connection may take to send its request line.</summary>
    public int RequestTimeoutMs { get; init; } = 5000;

    /// <summary>Lines queued for a reader; a reader that falls this far behind is dropped, never buffered further.</summary>
    public int MaxQueuedLines { get; init; } = 32;

    /// <summary>How long one write to a reader may block before the session is dropped.</summary>
    public int WriteTimeoutMs { get; init; } = 5000;

    /// <summary>Peers remembered for "logged once per peer"; past this, refusals are still counted but no longer logged.</summary>
    public int MaxLoggedPeers { get; init; } = 4096;
}
