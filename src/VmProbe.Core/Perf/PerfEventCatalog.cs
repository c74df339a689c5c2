using System.Globalization;
using System.Text;

namespace VmProbe.Perf;

/// <summary>
/// Turns the event names users write (kernel <c>PERF_COUNT_*</c> ids, perf-tool names, PascalCase cmdlet names,
/// snake_case canonical names, <c>subsystem:name</c> tracepoints, <c>pmu/event</c> dynamic PMU events) into a
/// <see cref="PerfEventSpec"/> with the kernel's perf_event_attr type and config.
/// </summary>
public static partial class PerfEventCatalog
{
    public const uint TypeHardware = 0;
    public const uint TypeSoftware = 1;
    public const uint TypeTracepoint = 2;
    public const uint TypeHardwareCache = 3;

    /// <summary>Where the kernel lists the PMUs it has; dynamic PMU events are read from here.</summary>
    public const string DefaultEventSourceRoot = "/sys/bus/event_source/devices";

    // Exact (case-insensitive) names first, then names with '-' and '_' removed, unless two entries share that form.
    private static readonly Dictionary<string, PerfEventCatalogEntry> ByName = new(StringComparer.OrdinalIgnoreCase);
    private static readonly Dictionary<string, PerfEventCatalogEntry?> ByLooseName = new(StringComparer.OrdinalIgnoreCase);

    private static readonly (string Name, uint Id)[] CacheIds =
    {
        ("L1D", 0), ("L1I", 1), ("LL", 2), ("DTLB", 3), ("ITLB", 4), ("BPU", 5), ("NODE", 6),
    };

    private static readonly string[] CacheOps = { "read", "write", "prefetch" };
    private static readonly string[] CacheResults = { "access", "miss" };

    // After the arrays above: static initializers run in textual order.
    private static readonly IReadOnlyList<PerfEventCatalogEntry> Entries = BuildEntries();

    static PerfEventCatalog()
    {
        foreach (var entry in Entries)
        {
            foreach (var name in entry.Aliases.Prepend(entry.CanonicalName))
            {
                ByName.TryAdd(name, entry);
                var loose = Loose(name);
                if (ByLooseName.TryGetValue(loose, out var existing))
                {
                    if (existing is not null && !ReferenceEquals(existing, entry))
                    {
                        ByLooseName[loose] = null; // ambiguous without its separators
                    }
                }
                else
                {
                    ByLooseName[loose] = entry;
                }
            }
        }
    }

    /// <summary>Every named hardware, software and hardware-cache event (tracepoints and PMU events are open-ended).</summary>
    public static IReadOnlyList<PerfEventCatalogEntry> All => Entries;

    /// <summary>Parses an event name; throws <see cref="UnknownPerfEventException"/> (with suggestions) when it is not known.</summary>
    /// <param name="name">The name as written.</param>
    /// <param name="bareNumberIsTracepoint">True for the tracepoint list, where a bare number is a tracepoint id.</param>
    public static PerfEventSpec Parse(string name, bool bareNumberIsTracepoint = false) =>
        Parse(name, bareNumberIsTracepoint, DefaultEventSourceRoot);

    /// <summary>As <see cref="Parse(string, bool)"/>, reading dynamic PMUs under <paramref name="eventSourceRoot"/>.</summary>
    public static PerfEventSpec Parse(string name, bool bareNumberIsTracepoint, string eventSourceRoot)
    {
        ArgumentNullException.ThrowIfNull(name);
        var trimmed = name.Trim();
        if (trimmed.Length == 0)
        {
            throw new UnknownPerfEventException(name, "empty perf event name", Array.Empty<string>());
        }

        if (ByName.TryGetValue(trimmed, out var entry)
            || (ByLooseName.TryGetValue(Loose(trimmed), out entry) && entry is not null))
        {
            return entry.ToSpec();
        }

        if (TryParseKernelCacheId(trimmed, out var cacheSpec, out var cacheError))
        {
            return cacheSpec;
        }

        if (cacheError is not null)
        {
            throw new UnknownPerfEventException(name, cacheError, Array.Empty<string>());
        }

        if (bareNumberIsTracepoint && ulong.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var bareId))
        {
            return NumericTracepoint(bareId);
        }

        var colon = trimmed.IndexOf(':');
        if (colon > 0 && colon < trimmed.Length - 1 && trimmed.IndexOf(':', colon + 1) < 0)
        {
            var subsystem = trimmed[..colon];
            var eventName = trimmed[(colon + 1)..];
            if (subsystem.Equals("tracepoint", StringComparison.OrdinalIgnoreCase)
                && ulong.TryParse(eventName, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                return NumericTracepoint(id);
            }

            if (IsTracefsName(subsystem) && IsTracefsName(eventName))
            {
                return new PerfEventSpec(trimmed, PerfEventKind.Tracepoint, TypeTracepoint, 0, trimmed);
            }

            throw new UnknownPerfEventException(
                name,
                $"invalid tracepoint '{name}': expected subsystem:name of letters, digits and '_' (e.g. sched:sched_switch)",
                Array.Empty<string>());
        }

        var slash = trimmed.IndexOf('/');
        if (slash > 0)
        {
            return ParseDynamic(trimmed, eventSourceRoot);
        }

        var suggestions = Suggest(trimmed);
        var message = suggestions.Count > 0
            ? $"unknown perf event '{name}'; did you mean {string.Join(", ", suggestions)}?"
            : $"unknown perf event '{name}'; Get-VmPerfEvent lists the known names, tracepoints are written subsystem:name";
        throw new UnknownPerfEventException(name, message, suggestions);
    }

    /// <summary>Like <see cref="Parse(string, bool)"/> but returns false with the error message instead of throwing.</summary>
    public static bool TryParse(string name, bool bareNumberIsTracepoint, out PerfEventSpec? spec, out string? error)
    {
        try
        {
            spec = Parse(name, bareNumberIsTracepoint);
            error = null;
            return true;
        }
        catch (VmProbeException ex)
        {
            spec = null;
            error = ex.Message;
            return false;
        }
    }

    /// <summary>The known names closest to <paramref name="name"/> by edit distance, each followed by its canonical name.</summary>
    public static IReadOnlyList<string> Suggest(string name, int maxNames = 3)
    {
        var loose = Loose(name).ToLowerInvariant();
        var limit = Math.Clamp(loose.Length / 3, 1, 3);
        var scored = new List<(int Distance, string Name, PerfEventCatalogEntry Entry)>();
        foreach (var entry in Entries)
        {
            foreach (var candidate in entry.Aliases.Prepend(entry.CanonicalName))
            {
                var distance = EditDistance(loose, Loose(candidate).ToLowerInvariant());
                if (distance <= limit)
                {
                    scored.Add((distance, candidate, entry));
                }
            }
        }

        var result = new List<string>();
        var entriesSeen = new HashSet<PerfEventCatalogEntry>();
        foreach (var (_, candidate, entry) in scored.OrderBy(s => s.Distance).ThenBy(s => SpellingRank(s.Name)).ThenBy(s => s.Name.Length).ThenBy(s => s.Name, StringComparer.Ordinal))
        {
            if (!entriesSeen.Add(entry))
            {
                continue;
            }

            result.Add(candidate);
            if (!candidate.Equals(entry.CanonicalName, StringComparison.Ordinal))
            {
                result.Add(entry.CanonicalName);
            }

            if (entriesSeen.Count >= maxNames)
            {
                break;
            }
        }

        return result;
    }

    // Show perf-tool and canonical spellings before kernel ids and PascalCase forms of the same distance.
    private static int SpellingRank(string name) =>
        name.StartsWith("PERF_COUNT_", StringComparison.Ordinal) ? 1 : name.Any(char.IsAsciiLetterUpper) && !name.Contains('-') ? 2 : 0;

    private static PerfEventSpec NumericTracepoint(ulong id) =>
        new("tracepoint_" + id.ToString(CultureInfo.InvariantCulture), PerfEventKind.Tracepoint, TypeTracepoint, id);

    /// <summary>
    /// PERF_COUNT_HW_CACHE_&lt;ID&gt;[:op[:result]]: a bare id means read misses, as the C++ vmprobe counted them.
    /// Returns false with a null error when the name is not of this form at all.
    /// </summary>
    private static bool TryParseKernelCacheId(string name, out PerfEventSpec spec, out string? error)
    {
        const string Prefix = "PERF_COUNT_HW_CACHE_";
        spec = null!;
        error = null;
        if (!name.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var parts = name[Prefix.Length..].Split(':');
        var cache = Array.FindIndex(CacheIds, c => c.Name.Equals(parts[0], StringComparison.OrdinalIgnoreCase));
        if (cache < 0)
        {
            error = $"unknown hardware cache '{parts[0]}' in perf event '{name}'; expected one of {string.Join(", ", CacheIds.Select(c => Prefix + c.Name))}";
            return false;
        }

        if (parts.Length > 3)
        {
            error = $"invalid perf event '{name}': expected {Prefix}{CacheIds[cache].Name}[:read|write|prefetch[:access|miss]]";
            return false;
        }

        var op = parts.Length > 1 ? FindSuffix(CacheOps, parts[1], "PERF_COUNT_HW_CACHE_OP_") : 0;
        var result = parts.Length > 2 ? FindSuffix(CacheResults, parts[2], "PERF_COUNT_HW_CACHE_RESULT_") : 1;
        if (op < 0 || result < 0)
        {
            error = $"invalid perf event '{name}': the operation must be read, write or prefetch and the result access or miss";
            return false;
        }

        spec = Entries.First(e => e.Kind == PerfEventKind.HardwareCache && e.Config == CacheConfig(CacheIds[cache].Id, (uint)op, (uint)result)).ToSpec();
        return true;
    }

    private static int FindSuffix(string[] names, string text, string kernelPrefix)
    {
        if (text.StartsWith(kernelPrefix, StringComparison.OrdinalIgnoreCase))
        {
            text = text[kernelPrefix.Length..];
        }

        return Array.FindIndex(names, n => n.Equals(text, StringComparison.OrdinalIgnoreCase));
    }

    private static string Loose(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var ch in name)
        {
            if (ch != '-' && ch != '_')
            {
                builder.Append(ch);
            }
        }

        return builder.ToString();
    }

    private static string SnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var ch in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(ch) ? char.ToLowerInvariant(ch) : '_');
        }

        return builder.ToString();
    }

    private static bool IsTracefsName(string text) => text.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_' || ch == '-');

    private static bool IsSysfsName(string text) =>
        text.Length > 0 && text != "." && text != ".." && text.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-' or '.');

    /// <summary>Optimal string alignment distance: Levenshtein plus adjacent transpositions ("cycels" is 1 from "cycles").</summary>
    internal static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
