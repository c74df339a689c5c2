namespace VmProbe.Procfs;

/// <summary>
/// CPU accounting of one cgroup, from v2 <c>cpu.stat</c> or from v1 <c>cpuacct.usage</c> + <c>cpuacct.stat</c> +
/// <c>cpu.stat</c>. Times in seconds; a field the hierarchy does not provide is null.
/// </summary>
public sealed record CgroupCpuStats(
    double? UsageSeconds,
    double? UserSeconds,
    double? SystemSeconds,
    ulong? Periods,
    ulong? ThrottledPeriods,
    double? ThrottledSeconds);

/// <summary>Parsers of cgroup v1/v2 stat files (flat <c>key value</c> lines or one number).</summary>
public static class CgroupStatParser
{
    /// <summary>Parses flat keyed files (<c>cpu.stat</c>, <c>memory.stat</c>, <c>cpuacct.stat</c>) into <paramref name="into"/> (cleared first).</summary>
    public static void ParseFlatKeyed(ReadOnlySpan<byte> content, string path, IDictionary<string, ulong> into)
    {
        into.Clear();
        var rest = content;
        while (ProcText.NextLine(ref rest, out var line))
        {
            var cursor = line;
            var key = ProcText.NextToken(ref cursor);
            if (key.IsEmpty)
            {
                continue;
            }

            var name = System.Text.Encoding.ASCII.GetString(key);
            into[name] = ProcText.ParseUInt64(ProcText.NextToken(ref cursor), path, name);
        }
    }

    /// <summary>Parses a one-number file (<c>memory.current</c>, <c>cpuacct.usage</c>, <c>memory.usage_in_bytes</c>). <c>max</c> is <see cref="ulong.MaxValue"/>.</summary>
    public static ulong ParseSingleValue(ReadOnlySpan<byte> content, string path)
    {
        var value = ProcText.Trim(content);
        return ProcText.Equals(value, "max") ? ulong.MaxValue : ProcText.ParseUInt64(value, path, "value");
    }

    /// <summary>v2 <c>cpu.stat</c>: usage_usec, user_usec, system_usec, and nr_periods/nr_throttled/throttled_usec when the cpu controller is enabled.</summary>
    public static CgroupCpuStats ParseV2CpuStat(ReadOnlySpan<byte> content, string path)
    {
        var f = new Dictionary<string, ulong>(StringComparer.Ordinal);
        ParseFlatKeyed(content, path, f);
        return new CgroupCpuStats(
            Micro(f, "usage_usec"),
            Micro(f, "user_usec"),
            Micro(f, "system_usec"),
            Get(f, "nr_periods"),
            Get(f, "nr_throttled"),
            Micro(f, "throttled_usec"));
    }

    /// <summary>
    /// v1: <paramref name="cpuacctUsage"/> (ns), <paramref name="cpuacctStat"/> (user/system in USER_HZ ticks) and
    /// <paramref name="cpuStat"/> (nr_periods, nr_throttled, throttled_time ns); any may be empty when the file is missing.
    /// </summary>
    public static CgroupCpuStats ParseV1(ReadOnlySpan<byte> cpuacctUsage, ReadOnlySpan<byte> cpuacctStat, ReadOnlySpan<byte> cpuStat, string directory, double ticksPerSecond)
    {
        double? usage = cpuacctUsage.IsEmpty ? null : ParseSingleValue(cpuacctUsage, directory + "/cpuacct.usage") / 1e9;
        var acct = new Dictionary<string, ulong>(StringComparer.Ordinal);
        ParseFlatKeyed(cpuacctStat, directory + "/cpuacct.stat", acct);
        var cpu = new Dictionary<string, ulong>(StringComparer.Ordinal);
        ParseFlatKeyed(cpuStat, directory + "/cpu.stat", cpu);
        return new CgroupCpuStats(
            usage,
            Get(acct, "user") / ticksPerSecond,
            Get(acct, "system") / ticksPerSecond,
            Get(cpu, "nr_periods"),
            Get(cpu, "nr_throttled"),
            Get(cpu, "throttled_time") / 1e9);
    }

    private static ulong? Get(Dictionary<string, ulong> f, string key) => f.TryGetValue(key, out var v) ? v : null;

    private static double? Micro(Dictionary<string, ulong> f, string key) => f.TryGetValue(key, out var v) ? v / 1e6 : null;
}
