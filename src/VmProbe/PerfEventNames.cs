using System.Text;
using VmProbe.Perf;

namespace VmProbe.Commands;

/// <summary>
/// The spellings -Event accepts: the config's snake_case names (cpu_cycles), perf's (cpu-cycles), and PascalCase
/// forms (Cycles, CacheMisses, TaskClock), all case-insensitive. The catalog decides which names exist.
/// </summary>
internal static class PerfEventNames
{
    /// <summary>PascalCase or camelCase to snake_case: CacheMisses -> cache_misses, LLCLoads -> llc_loads, task-clock -> task_clock.</summary>
    public static string ToSnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c == '-' || c == ' ')
            {
                c = '_';
            }

            if (char.IsUpper(c) && i > 0 && builder.Length > 0 && builder[^1] != '_')
            {
                var previous = name[i - 1];
                var nextIsLower = i + 1 < name.Length && char.IsLower(name[i + 1]);
                if (char.IsLower(previous) || char.IsDigit(previous) || (char.IsUpper(previous) && nextIsLower))
                {
                    builder.Append('_');
                }
            }

            builder.Append(char.ToLowerInvariant(c));
        }

        return builder.ToString();
    }

    /// <summary>The names to try in the catalog, most literal first, without repeats.</summary>
    public static IEnumerable<string> Candidates(string name)
    {
        var trimmed = name.Trim();
        yield return trimmed;
        var snake = ToSnakeCase(trimmed);
        if (!string.Equals(snake, trimmed, StringComparison.OrdinalIgnoreCase))
        {
            yield return snake;
        }
    }

    public static PerfEventSpec? Resolve(string name)
    {
        foreach (var candidate in Candidates(name))
        {
            // Tracepoints (subsystem:name) and PMU events (pmu/event) resolve too; unknown names are null, not an exception.
            var spec = PerfEventCatalog.TryParse(candidate, bareNumberIsTracepoint: false, out var parsed, out _) ? parsed : null;
            if (spec is not null)
            {
                return spec;
            }
        }

        return null;
    }
}
