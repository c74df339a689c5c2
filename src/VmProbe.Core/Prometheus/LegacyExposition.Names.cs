using System.Globalization;
using System.Text;
using VmProbe.Perf;

namespace VmProbe.Prometheus;

/// <summary>The legacy names: perf event keys and VM names made metric-safe, promtool-clean and collision-free.</summary>
public sealed partial class LegacyExposition
{
    /// <summary>
    /// The C++ probe's key for a perf event: the kernel name without <c>PERF_COUNT_</c> and underscores, lowercased
    /// (<c>PERF_COUNT_HW_CPU_CYCLES</c> -&gt; <c>perf_hwcpucycles</c>), <c>perf_&lt;id&gt;</c> for a numeric tracepoint;
    /// <c>perf_hwcache&lt;cache&gt;</c> for read misses of a cache and <c>perf_hwcache&lt;cache&gt;&lt;op&gt;&lt;result&gt;</c>
    /// otherwise; named tracepoints and PMU events, which the C++ probe did not have, become <c>perf_</c> + the name with
    /// every character outside [A-Za-z0-9_] mapped to <c>_</c>.
    /// </summary>
    public static string PerfKey(PerfEventSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var name = spec.CanonicalName;
        switch (spec.Kind)
        {
            case PerfEventKind.Hardware:
                return "perf_hw" + name.Replace("_", string.Empty, StringComparison.Ordinal);
            case PerfEventKind.Software:
                return "perf_sw" + name.Replace("_", string.Empty, StringComparison.Ordinal);
            case PerfEventKind.HardwareCache:
                var parts = name.Split('_'); // cache_op_result
                var cache = parts[0] == "llc" ? "ll" : parts[0];
                return parts.Length == 3 && parts[1] == "read" && parts[2] == "miss"
                    ? "perf_hwcache" + cache
                    : "perf_hwcache" + cache + string.Concat(parts.Skip(1));
            case PerfEventKind.Tracepoint when spec.TracepointName is null && name.StartsWith("tracepoint_", StringComparison.Ordinal):
                return "perf_" + spec.Config.ToString(CultureInfo.InvariantCulture);
            default:
                return "perf_" + SanitizeName(name);
        }
    }

    /// <summary>A VM name made valid inside a metric name: every character outside [A-Za-z0-9_] becomes <c>_</c>.</summary>
    public static string SanitizeName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var builder = new StringBuilder(name.Length);
        foreach (var ch in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(ch) || ch == '_' ? ch : '_');
        }

        return builder.ToString();
    }

    // promtool's lint ("metric names should not contain abbreviated units") flags any of these between underscores.
    private static readonly HashSet<string> UnitTokens = new(StringComparer.OrdinalIgnoreCase)
    {
        "s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d",
    };

    /// <summary>
    /// A VM name as it appears in legacy metric names: <see cref="SanitizeName"/>, then every '_'-separated token that
    /// promtool takes for a unit abbreviation (s, ms, us, ns, sec, b, kb, mb, gb, tb, pb, m, h, d, any case) is joined to
    /// the token before it (the underscores between them dropped), or to the token after it when it comes first; a name
    /// that is nothing but such tokens gets "vm" appended. <c>web-b</c> gives <c>webb</c>, <c>db-ms</c> <c>dbms</c>,
    /// <c>ms-web</c> <c>msweb</c>, <c>d</c> <c>dvm</c>: so the file stays promtool-clean.
    /// </summary>
    public static string VmNamePart(string name)
    {
        var safe = SanitizeName(name);
        var tokens = safe.Split('_');
        if (!tokens.Any(UnitTokens.Contains))
        {
            return safe;
        }

        var parts = new List<string>();
        var pending = string.Empty; // unit tokens seen before any other token
        foreach (var token in tokens)
        {
            if (UnitTokens.Contains(token))
            {
                var last = parts.FindLastIndex(p => p.Length > 0);
                if (last >= 0)
                {
                    parts.RemoveRange(last + 1, parts.Count - last - 1);
                    parts[last] += token;
                }
                else
                {
                    pending += token;
                }
            }
            else if (token.Length == 0)
            {
                if (pending.Length == 0)
                {
                    parts.Add(token);
                }
            }
            else
            {
                parts.Add(pending + token);
                pending = string.Empty;
            }
        }

        if (pending.Length > 0)
        {
            parts.RemoveAll(p => p.Length == 0);
            parts.Add(UnitTokens.Contains(pending) ? pending + "vm" : pending);
        }

        return string.Join("_", parts);
    }

    /// <summary>The suffix given to a VM whose sanitized name collides with a smaller one's: <c>_</c> + FNV-1a-32 of the UTF-8 name, 8 hex digits.</summary>
    public static string CollisionSuffix(string originalName)
    {
        ArgumentNullException.ThrowIfNull(originalName);
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(originalName))
        {
            hash = (hash ^ b) * 16777619u;
        }

        return "_" + hash.ToString("x8", CultureInfo.InvariantCulture);
    }
}
