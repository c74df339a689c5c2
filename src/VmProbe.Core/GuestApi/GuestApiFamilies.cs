namespace VmProbe.GuestApi;

/// <summary>The families of the guest endpoint (source <c>guestapi</c>).</summary>
internal static class GuestApiFamilies
{
    public static readonly MetricDesc Refusals = new("guestapi_refusals_total", MetricType.Counter, "",
        "Guest requests the endpoint refused or ended, by reason (unknown_peer, claim_mismatch, oversized, too_many_sessions, slow_reader...).", "reason");

    public static readonly MetricDesc Sessions = new("guestapi_sessions", MetricType.Gauge, "",
        "Guest sessions streaming counters now.");

    public static readonly MetricDesc SessionsStarted = new("guestapi_sessions_started_total", MetricType.Counter, "",
        "Guest sessions accepted since the probe started.");
}
