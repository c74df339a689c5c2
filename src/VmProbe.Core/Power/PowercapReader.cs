using System.Globalization;

namespace VmProbe.Power;

/// <summary>
/// The powercap tree's energy counters (<c>class/powercap/intel-rapl:P[:S]/energy_uj</c>, also used by the AMD RAPL
/// driver): zone from the <c>name</c> file (<c>package-P</c>, <c>psys</c>, and sub-zones <c>core</c>, <c>uncore</c>,
/// <c>dram</c> named <c>cores-P</c>, <c>uncore-P</c>, <c>dram-P</c> after their package), wrap at
/// <c>max_energy_range_uj</c>. The <c>intel-rapl-mmio</c> zones repeat the MSR ones and are left out.
/// </summary>
internal static class PowercapReader
{
    public const string SourceLabel = "powercap";

    private const string Prefix = "intel-rapl:";

    /// <summary>Adds each readable zone to <paramref name="readings"/>; a refused read goes to <paramref name="denied"/>, another failure to <paramref name="failed"/>.</summary>
    public static void Read(PowerSysfs sysfs, List<EnergyReading> readings, List<string> denied, List<string> failed)
    {
        foreach (var directory in sysfs.Directories(sysfs.PathOf("class", "powercap")))
        {
            var id = Path.GetFileName(directory);
            if (!id.StartsWith(Prefix, StringComparison.Ordinal) || ZoneName(id, sysfs.ReadName(Path.Combine(directory, "name"))) is not { } zone)
            {
                continue;
            }

            var energyFile = Path.Combine(directory, "energy_uj");
            try
            {
                if (sysfs.ReadNumber(energyFile) is not { } raw)
                {
                    continue; // the zone went away, or has no counter
                }

                var max = sysfs.ReadNumber(Path.Combine(directory, "max_energy_range_uj"));
                readings.Add(new EnergyReading(SourceLabel + ":" + id, zone, SourceLabel, raw, max, 1e-6));
            }
            catch (UnauthorizedAccessException)
            {
                denied.Add(energyFile);
            }
            catch (Exception error) when (error is IOException or InvalidDataException)
            {
                failed.Add(error is InvalidDataException ? error.Message : $"{energyFile}: {error.Message}");
            }
        }
    }

    /// <summary>The zone label of a powercap directory, or null when its name is missing or not a label value.</summary>
    internal static string? ZoneName(string id, string? name)
    {
        if (name is null)
        {
            return null;
        }

        var parts = id[Prefix.Length..].Split(':');
        if (parts.Length == 1 || !parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            return name; // package-0, psys, or a top-level dram
        }

        return name switch
        {
            "core" => "cores-" + parts[0],
            "uncore" => "uncore-" + parts[0],
            _ => name + "-" + parts[0],
        };
    }
}
