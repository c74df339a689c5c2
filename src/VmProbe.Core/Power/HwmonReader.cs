using System.Globalization;
using System.Text.RegularExpressions;

namespace VmProbe.Power;

/// <summary>
/// hwmon's power and energy files (<c>class/hwmon/hwmonN/</c>): <c>powerK_average</c> (else <c>powerK_input</c>) in
/// microwatts as a sensor (ACPI power meters, PSUs, BMC-backed drivers), and <c>energyK_input</c> in microjoules as a
/// zone (amd_energy: <c>Ecore003</c> is zone <c>core-3</c>, <c>Esocket0</c> zone <c>package-0</c>; others
/// <c>NAME-LABEL</c>).
/// </summary>
internal static partial class HwmonReader
{
    public const string SourceLabel = "hwmon";

    [GeneratedRegex("^power([0-9]{1,3})_(average|input)$", RegexOptions.CultureInvariant)]
    private static partial Regex PowerFile();

    [GeneratedRegex("^energy([0-9]{1,3})_input$", RegexOptions.CultureInvariant)]
    private static partial Regex EnergyFile();

    [GeneratedRegex("^E(core|socket)0*([0-9]{1,4})$", RegexOptions.CultureInvariant)]
    private static partial Regex AmdLabel();

    public static void Read(PowerSysfs sysfs, List<EnergyReading> energy, List<(string Sensor, double Watts)> power, List<string> denied, List<string> failed)
    {
        foreach (var directory in sysfs.Directories(sysfs.PathOf("class", "hwmon")))
        {
            var device = sysfs.ReadName(Path.Combine(directory, "name")) ?? Path.GetFileName(directory);
            string[] files;
            try
            {
                files = Directory.GetFiles(directory).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                continue; // the device went away
            }

            var averaged = new HashSet<string>(StringComparer.Ordinal);
            foreach (var file in files)
            {
                if (PowerFile().Match(file) is { Success: true } p && p.Groups[2].Value == "average")
                {
                    averaged.Add(p.Groups[1].Value);
                }
            }

            foreach (var file in files)
            {
                var path = Path.Combine(directory, file);
                try
                {
                    if (PowerFile().Match(file) is { Success: true } p)
                    {
                        var index = p.Groups[1].Value;
                        if ((p.Groups[2].Value == "input" && averaged.Contains(index)) || sysfs.ReadNumber(path) is not { } microwatts)
                        {
                            continue;
                        }

                        var label = sysfs.ReadName(Path.Combine(directory, $"power{index}_label"));
                        power.Add(($"{device}/{label ?? "power" + index}", microwatts / 1e6));
                    }
                    else if (EnergyFile().Match(file) is { Success: true } e && sysfs.ReadNumber(path) is { } microjoules)
                    {
                        var index = e.Groups[1].Value;
                        var label = sysfs.ReadName(Path.Combine(directory, $"energy{index}_label"));
                        var zone = ZoneOf(device, label ?? "energy" + index);
                        energy.Add(new EnergyReading($"{SourceLabel}:{Path.GetFileName(directory)}/{file}", zone, SourceLabel, microjoules, null, 1e-6));
                    }
                }
                catch (UnauthorizedAccessException)
                {
                    denied.Add(path);
                }
                catch (Exception error) when (error is IOException or InvalidDataException)
                {
                    failed.Add(error is InvalidDataException ? error.Message : $"{path}: {error.Message}");
                }
            }
        }
    }

    internal static string ZoneOf(string device, string label)
    {
        var amd = AmdLabel().Match(label);
        if (!amd.Success)
        {
            return device + "-" + label;
        }

        var number = int.Parse(amd.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture);
        return (amd.Groups[1].Value == "core" ? "core-" : "package-") + number.ToString(CultureInfo.InvariantCulture);
    }
}
