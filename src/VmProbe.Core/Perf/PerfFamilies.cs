namespace VmProbe.Perf;

/// <summary>
/// The families of <see cref="PerfMetricsSource"/> (source <c>perf</c>), each declared once: the counts and ratios a
/// <see cref="VmPerfSample"/> stands for in the model (<see cref="PerfSampleFamilies"/>, which flattening knows without
/// this source), the rest here.
/// </summary>
internal static class PerfFamilies
{
    public static readonly MetricDesc EventSupported = new("probe_event_supported", MetricType.Gauge, "",
        "1 when the configured perf event counts on this host, 0 when the kernel refused it (reason logged once).", PerfSampleFamilies.Event);

    public static readonly MetricDesc OpenFds = new("probe_perf_open_fds", MetricType.Gauge, "",
        "Perf event file descriptors open in the probe process.");
}
