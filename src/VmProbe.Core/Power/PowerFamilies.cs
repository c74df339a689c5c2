namespace VmProbe.Power;

/// <summary>The families of <see cref="PowerSource"/> (source <c>power</c>), each declared once.</summary>
internal static class PowerFamilies
{
    public static readonly MetricDesc HostEnergy = new("host_energy_joules_total", MetricType.Counter, "joules",
        "Energy the host's meters counted for the zone (package-N, cores-N, uncore-N, dram-N, psys, core-N), from the source named: perf (power PMU), powercap (energy_uj, wraps undone) or hwmon (energyN_input); the first value is the meter's own count, then increases.",
        "zone", "source");

    public static readonly MetricDesc HostPower = new("host_power_watts", MetricType.Gauge, "watts",
        "Power a platform meter reports: hwmon powerN_average (else powerN_input) per sensor, or the configured powermeter command's last completed reading (sensor powermeter).",
        "sensor");

    public static readonly MetricDesc DomainEnergy = new("domain_energy_joules_total", MetricType.Counter, "joules",
        "Energy of the zone attributed to the domain since the probe started: the zone's energy above its idle power times the domain's share of host cycles (or of host busy CPU time; see host_energy_model_info).",
        "domain", "uuid", "zone");

    public static readonly MetricDesc Unattributed = new("host_energy_unattributed_joules_total", MetricType.Counter, "joules",
        "Energy of the zone not attributed to any domain: idle power, host work outside the domains, and what was counted before the probe started; the sum over domains plus this equals host_energy_joules_total of the attributed source.",
        "zone");

    public static readonly MetricDesc IdlePower = new("host_energy_idle_watts", MetricType.Gauge, "watts",
        "The zone's idle power as the model estimates it: the intercept of a least-squares line of interval power against the host's busy CPU fraction, clamped to [0, lowest interval power]; absent while unknown (too few intervals or too little spread in load). Kept apart from the domains.",
        "zone");

    public static readonly MetricDesc Model = new("host_energy_model_info", MetricType.Gauge, "",
        "How energy was divided among domains this cycle (model: cycles, cpu_time, or none when neither could be measured), which source each zone's division used, and the idle estimate (idle: fitted, or unknown while nothing is taken as idle), always 1.",
        "model", "zone", "source", "idle");

    public static readonly MetricDesc PowermeterFailures = new("host_powermeter_failures_total", MetricType.Counter, "",
        "Runs of the configured powermeter command that gave no reading, by reason: start, timeout, exit (non-zero status), output (not one number of watts, or too long).",
        "reason");
}
