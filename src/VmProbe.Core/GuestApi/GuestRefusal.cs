namespace VmProbe.GuestApi;

/// <summary>Why the guest endpoint refused or ended a request: the <c>reason</c> label and the error line's <c>code</c>.</summary>
public enum GuestRefusalReason
{
    UnknownPeer,
    AmbiguousPeer,
    ClaimMismatch,
    Oversized,
    Malformed,
    InvalidRequest,
    Timeout,
    TooManySessions,
    TooManySessionsForVm,
    DomainNotRunning,
    EventUnavailable,
    FdBudget,
    SlowReader,
    Unavailable,
    TooManyConnections,
}

/// <summary>A refusal with a message for the guest's error line. Thrown inside the GuestApi layer, never past the server.</summary>
public sealed class GuestApiRefusedException : VmProbeException
{
    public GuestApiRefusedException(GuestRefusalReason reason, string message, Exception? inner = null)
        : base(message, "guestapi," + Code(reason), KindOf(reason), inner)
    {
        Reason = reason;
    }

    public GuestRefusalReason Reason { get; }

    /// <summary>snake_case of the reason: <c>unknown_peer</c>, <c>too_many_sessions</c>...</summary>
    public static string Code(GuestRefusalReason reason) => reason switch
    {
        GuestRefusalReason.UnknownPeer => "unknown_peer",
        GuestRefusalReason.AmbiguousPeer => "ambiguous_peer",
        GuestRefusalReason.ClaimMismatch => "claim_mismatch",
        GuestRefusalReason.Oversized => "oversized",
        GuestRefusalReason.Malformed => "malformed",
        GuestRefusalReason.InvalidRequest => "invalid_request",
        GuestRefusalReason.Timeout => "timeout",
        GuestRefusalReason.TooManySessions => "too_many_sessions",
        GuestRefusalReason.TooManySessionsForVm => "too_many_sessions_for_vm",
        GuestRefusalReason.DomainNotRunning => "domain_not_running",
        GuestRefusalReason.EventUnavailable => "event_unavailable",
        GuestRefusalReason.FdBudget => "fd_budget",
        GuestRefusalReason.SlowReader => "slow_reader",
        GuestRefusalReason.TooManyConnections => "too_many_connections",
        _ => "unavailable",
    };

    private static ProbeErrorKind KindOf(GuestRefusalReason reason) => reason switch
    {
        GuestRefusalReason.UnknownPeer or GuestRefusalReason.AmbiguousPeer or GuestRefusalReason.ClaimMismatch => ProbeErrorKind.PermissionDenied,
        GuestRefusalReason.Oversized or GuestRefusalReason.Malformed or GuestRefusalReason.InvalidRequest => ProbeErrorKind.InvalidArgument,
        GuestRefusalReason.Timeout or GuestRefusalReason.SlowReader => ProbeErrorKind.Timeout,
        GuestRefusalReason.DomainNotRunning => ProbeErrorKind.NotFound,
        GuestRefusalReason.EventUnavailable => ProbeErrorKind.NotSupported,
        _ => ProbeErrorKind.ResourceUnavailable,
    };
}
