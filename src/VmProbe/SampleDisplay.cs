using System.Globalization;

namespace VmProbe.Commands;

/// <summary>
/// The cells of the readers' default tables (VmProbe.Format.ps1xml calls these), so that
/// <c>Read-VmSchedStat -Continuous</c> reads like a terminal view: a short metric name with its label, values and
/// per-second rates with their units (seconds per second as a share of one CPU, named for what it is: cpu, steal,
/// waiting, stalled; bytes in KiB/MiB/GiB; counts per second). Text only: the objects keep their raw numbers.
/// </summary>
public static class SampleDisplay
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>The domain name; <c>(host)</c> for host readings (with the CPU of a per-CPU perf reading).</summary>
    public static string Domain(VmSampleScope scope, string? domain, int? cpu = null) =>
        scope == VmSampleScope.Host ? cpu is null ? "(host)" : $"(host cpu{cpu})" : domain ?? string.Empty;

    /// <summary>The metric without <c>_total</c> and its unit, then its extra label (mode, device, interface, reason...).</summary>
    public static string Metric(VmStatSample sample)
    {
        var name = sample.Metric;
        name = name.EndsWith("_total", StringComparison.Ordinal) ? name[..^"_total".Length] : name;
        foreach (var unit in new[] { "_seconds", "_bytes", "_ratio" })
        {
            if (name.EndsWith(unit, StringComparison.Ordinal) && name.Length > unit.Length)
            {
                name = name[..^unit.Length];
                break;
            }
        }

        // libvirt's vcpu.N.time is domain_vcpu_seconds_total: nothing is left of its name but the unit.
        name = name == "seconds" ? "time" : name;
        return string.IsNullOrEmpty(sample.Device) ? name : $"{name} {sample.Device}";
    }

    /// <summary>The value in its unit: <c>1,234.57 s</c>, <c>128.0 MiB</c>, <c>99.8%</c>, <c>42</c>.</summary>
    public static string Value(VmStatSample sample) => sample.Type == MetricType.Histogram ? Number(sample.Value) : UnitOf(sample) switch
    {
        Unit.Seconds => Seconds(sample.Value),
        Unit.Bytes => Bytes(sample.Value),
        Unit.Ratio => Percent(sample.Value),
        _ => Number(sample.Value),
    };

    /// <summary>
    /// The per-second rate of a counter in its unit: seconds per second as a share of one CPU (<c>98.1% cpu</c>,
    /// a vCPU's wait <c>2.1% steal</c>), bytes per second (<c>1.2 MiB/s</c>), else counts (<c>12.5/s</c>); empty when
    /// the sample has no rate (a gauge, a first reading).
    /// </summary>
    public static string Rate(VmStatSample sample)
    {
        if (sample.Rate is not { } rate)
        {
            return string.Empty;
        }

        return sample.Type == MetricType.Histogram ? PerSecond(rate) : UnitOf(sample) switch
        {
            Unit.Seconds => $"{Percent(rate)} {TimeShare(sample)}",
            Unit.Bytes => Bytes(rate) + "/s",
            _ => PerSecond(rate),
        };
    }

    /// <summary>A perf count; the CPU clocks (nanoseconds) as seconds.</summary>
    public static string Value(VmPerfSample sample) => IsClock(sample.Event) ? Seconds(sample.Value / 1e9) : Number(sample.Value);

    /// <summary>Events per second; the CPU clocks as a share of one CPU (<c>98.1% cpu</c>).</summary>
    public static string Rate(VmPerfSample sample) =>
        sample.Rate is not { } rate ? string.Empty : IsClock(sample.Event) ? $"{Percent(rate / 1e9)} cpu" : PerSecond(rate);

    public static string Percent(double ratio) => (ratio * 100).ToString("0.0", Invariant) + "%";

    public static string Seconds(double seconds) => seconds.ToString("#,0.00", Invariant) + " s";

    public static string Bytes(double bytes)
    {
        string[] units = { "B", "KiB", "MiB", "GiB", "TiB" };
        var i = 0;
        while (Math.Abs(bytes) >= 1024 && i < units.Length - 1)
        {
            bytes /= 1024;
            i++;
        }

        return i == 0 ? $"{bytes.ToString("0", Invariant)} B" : $"{bytes.ToString("0.0", Invariant)} {units[i]}";
    }

    private static string Number(double value) =>
        value == Math.Floor(value) && Math.Abs(value) < 1e15 ? value.ToString("#,0", Invariant) : value.ToString("#,0.###", Invariant);

    private static string PerSecond(double rate) => (Math.Abs(rate) >= 100 ? rate.ToString("#,0", Invariant) : rate.ToString("0.0", Invariant)) + "/s";

    private static bool IsClock(string evt) => evt is "task_clock" or "cpu_clock";

    /// <summary>What a second per second of this family is a share of.</summary>
    private static string TimeShare(VmStatSample sample)
    {
        var name = sample.Family ?? sample.Metric;
        if (name.Contains("pressure", StringComparison.Ordinal))
        {
            return "stalled";
        }

        if (name.Contains("wait", StringComparison.Ordinal) || name.Contains("delay", StringComparison.Ordinal))
        {
            // A vCPU's time runnable but not running is the steal its guest sees.
            return sample.Scope == VmSampleScope.Vcpu ? "steal" : "waiting";
        }

        if (name.Contains("haltpoll", StringComparison.Ordinal))
        {
            return "polling";
        }

        return name.Contains("guest", StringComparison.Ordinal) ? "guest" : "cpu";
    }

    private static Unit UnitOf(VmStatSample sample)
    {
        var name = sample.Family ?? sample.Metric;
        name = name.EndsWith("_total", StringComparison.Ordinal) ? name[..^"_total".Length] : name;
        return name.EndsWith("_seconds", StringComparison.Ordinal) || name == "seconds" ? Unit.Seconds
            : name.EndsWith("_bytes", StringComparison.Ordinal) ? Unit.Bytes
            : name.EndsWith("_ratio", StringComparison.Ordinal) ? Unit.Ratio
            : Unit.None;
    }

    private enum Unit
    {
        None,
        Seconds,
        Bytes,
        Ratio,
    }
}
