namespace VmProbe.Perf;

/// <summary>The families of perf events the config accepts, as the C++ vmprobe's config keys group them.</summary>
public enum PerfEventKind
{
    Hardware,
    Software,
    HardwareCache,
    Tracepoint,

    /// <summary>An event of a dynamic PMU found under /sys/bus/event_source/devices (for example power/energy-pkg).</summary>
    Dynamic,
}

/// <summary>
/// A validated perf event: the name users see (snake_case <see cref="CanonicalName"/>, used as the <c>event</c> label),
/// and what perf_event_open needs (<see cref="Type"/>, <see cref="Config"/>). For tracepoints <see cref="Config"/> is the
/// tracefs id, resolved when the event is opened unless the config gave a numeric id.
/// </summary>
public sealed record PerfEventSpec(
    string CanonicalName,
    PerfEventKind Kind,
    uint Type,
    ulong Config,
    string? TracepointName = null)
{
    public override string ToString() => CanonicalName;
}
