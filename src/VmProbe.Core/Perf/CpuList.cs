using System.Globalization;

namespace VmProbe.Perf;

/// <summary>Kernel CPU lists (<c>0-3,8,10-11</c>) as in /sys/devices/system/cpu/online.</summary>
internal static class CpuList
{
    public const string OnlinePath = "/sys/devices/system/cpu/online";

    /// <summary>The online CPUs, ascending.</summary>
    public static int[] ReadOnline() => Parse(File.ReadAllText(OnlinePath), OnlinePath);

    public static int[] Parse(ReadOnlySpan<char> text, string source = "cpu list")
    {
        var cpus = new List<int>();
        foreach (var range in text.Trim().ToString().Split(','))
        {
            var part = range.AsSpan().Trim();
            if (part.IsEmpty)
            {
                continue;
            }

            var dash = part.IndexOf('-');
            var first = ParseCpu(dash < 0 ? part : part[..dash], source);
            var last = dash < 0 ? first : ParseCpu(part[(dash + 1)..], source);
            if (last < first)
            {
                throw new VmProbeException($"{source}: bad CPU range '{part.ToString()}'", "cpu_list,InvalidData", ProbeErrorKind.InvalidData);
            }

            for (var cpu = first; cpu <= last; cpu++)
            {
                cpus.Add(cpu);
            }
        }

        cpus.Sort();
        return cpus.Distinct().ToArray();
    }

    private static int ParseCpu(ReadOnlySpan<char> text, string source) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var cpu)
            ? cpu
            : throw new VmProbeException($"{source}: bad CPU number '{text.ToString()}'", "cpu_list,InvalidData", ProbeErrorKind.InvalidData);
}
