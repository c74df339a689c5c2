namespace VmProbe.Perf;

/// <summary>
/// What <see cref="PerfMetricsSource"/> knows of one configured event: whether it counts on at least one target, and
/// when it does not, why (the errno of perf_event_open, or the tracepoint that does not resolve) as a typed error.
/// </summary>
/// <param name="Event">The event as configured.</param>
/// <param name="Supported">True once it counts on some target.</param>
/// <param name="Error">Why it is skipped (<see cref="PerfEventNotSupportedException"/>, <see cref="TracepointException"/>);
/// null when supported or not judged yet (no target opened).</param>
public sealed record PerfEventState(PerfEventSpec Event, bool Supported, VmProbeException? Error)
{
    /// <summary>The errno perf_event_open answered, or 0.</summary>
    public int Errno => Error is PerfEventException perf ? perf.Errno : 0;

    public string? Reason => Error?.Message;
}
