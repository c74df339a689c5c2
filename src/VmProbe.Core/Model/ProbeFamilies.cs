namespace VmProbe;

/// <summary>The families the probe writes about itself (the cycle's composition writes them), each declared once; here at the bottom so that the legacy naming can read them too.</summary>
internal static class ProbeFamilies
{
    public static readonly MetricDesc Info = new("probe_info", MetricType.Gauge, "",
        "VmProbe build information; always 1.", "version");

    public static readonly MetricDesc Errors = new("probe_errors_total", MetricType.Counter, "",
        "Errors that escaped a source, the domain discovery or the textfile export, since the probe started.", "source");

    public static readonly MetricDesc LastCycleTimestamp = new("probe_last_cycle_timestamp_seconds", MetricType.Gauge, "seconds",
        "Unix time at which the cycle that wrote this file started.");

    public static readonly MetricDesc CycleDuration = new("probe_cycle_duration_seconds", MetricType.Gauge, "seconds",
        "Duration of the cycle that wrote this file, from domain discovery to the last source (the write itself excluded).");

    public static readonly MetricDesc Interval = new("probe_interval_seconds", MetricType.Gauge, "seconds",
        "Configured delay between two cycles.");

    public static readonly MetricDesc Domains = new("probe_domains", MetricType.Gauge, "",
        "Domains found by the discovery in the cycle that wrote this file.");

    public static readonly MetricDesc OpenFds = new("probe_open_fds", MetricType.Gauge, "",
        "File descriptors open in the probe process.");

    public static readonly MetricDesc DiscoveryConflicts = new("probe_discovery_conflicts_total", MetricType.Counter, "",
        "Processes refused because they claimed a domain name or uuid another process holds, since the probe started.");
}
