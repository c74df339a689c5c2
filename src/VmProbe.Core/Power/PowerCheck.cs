namespace VmProbe.Power;

/// <summary>
/// What <c>vmprobe --check</c> says about power (its <c>power:</c> line): the meters found, by source and zone, the
/// platform sensors, the powermeter command's reading (run once, waited for up to its timeout), the model a run would
/// use, and what could not be read.
/// </summary>
public static class PowerCheck
{
    /// <param name="countsCycles">Whether the config counts a cycles event (then the cycles model can apply).</param>
    public static string Describe(PowerOptions options, bool countsCycles)
    {
        ArgumentNullException.ThrowIfNull(options);
        var log = new LinesLog();
        using var source = new PowerSource(options, log);
        var metrics = new MetricSet();
        var errors = new List<VmProbeException>();
        source.Collect(new CycleContext(Array.Empty<VmDomain>(), DateTimeOffset.UtcNow, log, CancellationToken.None) { ItemErrors = errors }, metrics);
        var parts = new List<string>();
        if (metrics.TryGet(PowerFamilies.HostEnergy.Name, out var energy) && energy.Samples.Count > 0)
        {
            parts.AddRange(energy.Samples.GroupBy(s => s.LabelValues[1]).Select(g => $"{g.Key} {string.Join(",", g.Select(s => s.LabelValues[0]))}"));
        }

        if (metrics.TryGet(PowerFamilies.HostPower.Name, out var power) && power.Samples.Count > 0)
        {
            parts.Add("sensors " + string.Join(",", power.Samples.Select(s => s.LabelValues[0])));
        }

        if (source.Powermeter is { } meter)
        {
            meter.WaitForRun(options.PowermeterTimeout + TimeSpan.FromSeconds(1));
            parts.Add(meter.Poll() is { } watts
                ? $"powermeter {watts} W"
                : $"powermeter gave no reading ({meter.FailureText ?? "no output in time"})");
        }

        var model = energy is { Samples.Count: > 0 } ? Model(source.SysfsRoot, countsCycles) : null;
        var said = log.Lines.Concat(errors.Select(e => e.Message)).ToList();
        var text = parts.Count == 0 ? "no power source" : string.Join("; ", parts) + (model is null ? string.Empty : "; " + model);
        return said.Count == 0 ? text : text + " (" + string.Join("; ", said) + ")";
    }

    /// <summary>Which model a run would use: cycles needs a cycles event in the config and a CPU PMU to count it.</summary>
    private static string Model(string sysfs, bool countsCycles)
    {
        var pmu = new[] { "cpu", "cpu_core", "armv8_pmuv3" }.Select(p => Path.Combine(sysfs, "bus", "event_source", "devices", p)).FirstOrDefault(Directory.Exists);
        return (countsCycles, pmu) switch
        {
            (false, _) => "model cpu_time (perfhardware has no cycles: add it for the cycles model)",
            (true, null) => $"model cpu_time (perfhardware counts cycles, but this host has no CPU PMU under {Path.Combine(sysfs, "bus", "event_source", "devices")})",
            _ => $"model cycles (perfhardware counts cycles on the {Path.GetFileName(pmu)} PMU; cpu_time for an interval where perf could not count them)",
        };
    }

    private sealed class LinesLog : IProbeLog
    {
        public List<string> Lines { get; } = new();

        public bool IsEnabled(LogLevel level) => level >= LogLevel.Info;

        public void Write(LogLevel level, string message) => Lines.Add(message.StartsWith("power: ", StringComparison.Ordinal) ? message["power: ".Length..] : message);
    }
}
