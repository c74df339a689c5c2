using System.Globalization;
using System.Text;

namespace VmProbe.Perf;

/// <summary>
/// Turns the event names users write (kernel <c>PERF_COUNT_*</c> ids, perf-tool names, PascalCase cmdlet names,
/// snake_case canonical names, <c>subsystem:name</c> tracepoints, <c>pmu/event</c> dynamic PMU events) into a
/// <see cref="PerfEventSpec"/> with the kernel's perf_event_attr type and config.
/// </summary>
public static class PerfEventCatalog
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

    /// <summary>
    /// Parses <c>pmu/event</c> (or <c>pmu/event/</c>): reads the PMU's type from <c>&lt;root&gt;/&lt;pmu&gt;/type</c> and the
    /// event's terms (<c>event=0x02,umask=0x01</c>) from <c>events/&lt;event&gt;</c>, placed into config through <c>format/&lt;term&gt;</c>.
    /// </summary>
    public static PerfEventSpec ParseDynamic(string pmuSlashEvent, string eventSourceRoot = DefaultEventSourceRoot)
    {
        var parts = pmuSlashEvent.Trim().TrimEnd('/').Split('/');
        if (parts.Length != 2 || !IsSysfsName(parts[0]) || !IsSysfsName(parts[1]))
        {
            throw new UnknownPerfEventException(pmuSlashEvent, $"invalid PMU event '{pmuSlashEvent}': expected pmu/event (e.g. msr/tsc)", Array.Empty<string>());
        }

        var (pmu, eventName) = (parts[0], parts[1]);
        var pmuDir = Path.Combine(eventSourceRoot, pmu);
        if (!Directory.Exists(pmuDir))
        {
            var pmus = Directory.Exists(eventSourceRoot)
                ? Directory.GetDirectories(eventSourceRoot).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)
                : Enumerable.Empty<string>();
            throw new UnknownPerfEventException(
                pmuSlashEvent,
                $"unknown PMU '{pmu}' in perf event '{pmuSlashEvent}'; this machine has: {string.Join(", ", pmus)}",
                Array.Empty<string>());
        }

        var eventFile = Path.Combine(pmuDir, "events", eventName);
        if (!File.Exists(eventFile))
        {
            var known = Directory.Exists(Path.Combine(pmuDir, "events"))
                ? Directory.GetFiles(Path.Combine(pmuDir, "events")).Select(Path.GetFileName).OfType<string>()
                    .Where(n => !n.Contains('.', StringComparison.Ordinal)).Order(StringComparer.Ordinal)
                : Enumerable.Empty<string>();
            throw new UnknownPerfEventException(
                pmuSlashEvent,
                $"PMU '{pmu}' has no event '{eventName}'; it has: {string.Join(", ", known)}",
                Array.Empty<string>());
        }

        var type = uint.Parse(File.ReadAllText(Path.Combine(pmuDir, "type")).Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
        ulong config = 0;
        foreach (var term in File.ReadAllText(eventFile).Trim().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = term.IndexOf('=');
            var termName = eq < 0 ? term : term[..eq];
            var value = eq < 0 ? 1UL : ParseSysfsNumber(term[(eq + 1)..], eventFile);
            config |= PlaceTerm(Path.Combine(pmuDir, "format", termName), termName, value, pmuSlashEvent);
        }

        var canonical = SnakeCase(pmu) + "_" + SnakeCase(eventName);
        return new PerfEventSpec(canonical, PerfEventKind.Dynamic, type, config);
    }

    private static ulong PlaceTerm(string formatFile, string termName, ulong value, string eventName)
    {
        if (termName == "config")
        {
            return value;
        }

        if (!File.Exists(formatFile))
        {
            throw new VmProbeException($"perf event '{eventName}' uses term '{termName}' which its PMU does not describe in {formatFile}", "perf_event,format", ProbeErrorKind.NotSupported);
        }

        // Format is "config:0-7" or "config:0-7,21" or "config1:0-15"; only config is carried in a PerfEventSpec.
        var format = File.ReadAllText(formatFile).Trim();
        var colon = format.IndexOf(':');
        if (colon < 0 || format[..colon] != "config")
        {
            throw new VmProbeException($"perf event '{eventName}' sets '{termName}' in {format}; only config bits are supported", "perf_event,format", ProbeErrorKind.NotSupported);
        }

        ulong result = 0;
        var sourceBit = 0;
        foreach (var range in format[(colon + 1)..].Split(','))
        {
            var dash = range.IndexOf('-');
            var low = int.Parse(dash < 0 ? range : range[..dash], CultureInfo.InvariantCulture);
            var high = dash < 0 ? low : int.Parse(range[(dash + 1)..], CultureInfo.InvariantCulture);
            for (var bit = low; bit <= high && bit < 64; bit++, sourceBit++)
            {
                if (((value >> sourceBit) & 1) != 0)
                {
                    result |= 1UL << bit;
                }
            }
        }

        return result;
    }

    private static ulong ParseSysfsNumber(string text, string file)
    {
        text = text.Trim();
        var ok = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        return ok ? value : throw new VmProbeException($"cannot parse '{text}' in {file}", "perf_event,format", ProbeErrorKind.InvalidData);
    }

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

    /// <summary>The kernel's hw-cache config: id | (op &lt;&lt; 8) | (result &lt;&lt; 16).</summary>
    public static ulong CacheConfig(uint cacheId, uint op, uint result) => cacheId | (op << 8) | (result << 16);

    private static IReadOnlyList<PerfEventCatalogEntry> BuildEntries()
    {
        var list = new List<PerfEventCatalogEntry>();

        void Hw(string kernel, ulong config, string description, params string[] perfNames) =>
            list.Add(Named(kernel, "PERF_COUNT_HW_", PerfEventKind.Hardware, TypeHardware, config, description, perfNames));
        void Sw(string kernel, ulong config, string description, params string[] perfNames) =>
            list.Add(Named(kernel, "PERF_COUNT_SW_", PerfEventKind.Software, TypeSoftware, config, description, perfNames));

        Hw("CPU_CYCLES", 0, "CPU cycles (may vary with frequency scaling)", "cycles", "cpu-cycles");
        Hw("INSTRUCTIONS", 1, "Retired instructions", "instructions");
        Hw("CACHE_REFERENCES", 2, "Cache accesses, usually last-level cache", "cache-references");
        Hw("CACHE_MISSES", 3, "Cache misses, usually last-level cache", "cache-misses");
        Hw("BRANCH_INSTRUCTIONS", 4, "Retired branch instructions", "branches", "branch-instructions");
        Hw("BRANCH_MISSES", 5, "Mispredicted branch instructions", "branch-misses");
        Hw("BUS_CYCLES", 6, "Bus cycles", "bus-cycles");
        Hw("STALLED_CYCLES_FRONTEND", 7, "Stalled cycles during issue", "stalled-cycles-frontend", "idle-cycles-frontend");
        Hw("STALLED_CYCLES_BACKEND", 8, "Stalled cycles during retirement", "stalled-cycles-backend", "idle-cycles-backend");
        Hw("REF_CPU_CYCLES", 9, "Reference CPU cycles, not affected by frequency scaling", "ref-cycles");

        Sw("CPU_CLOCK", 0, "CPU clock, a high-resolution per-CPU timer (ns)", "cpu-clock");
        Sw("TASK_CLOCK", 1, "Clock count specific to the task that is running (ns)", "task-clock");
        Sw("PAGE_FAULTS", 2, "Page faults", "page-faults", "faults");
        Sw("CONTEXT_SWITCHES", 3, "Context switches", "context-switches", "cs");
        Sw("CPU_MIGRATIONS", 4, "Migrations of the task to another CPU", "cpu-migrations", "migrations");
        Sw("PAGE_FAULTS_MIN", 5, "Minor page faults (no disk I/O)", "minor-faults");
        Sw("PAGE_FAULTS_MAJ", 6, "Major page faults (disk I/O)", "major-faults");
        Sw("ALIGNMENT_FAULTS", 7, "Alignment faults", "alignment-faults");
        Sw("EMULATION_FAULTS", 8, "Emulated instructions", "emulation-faults");
        Sw("DUMMY", 9, "Placeholder event that counts nothing", "dummy");
        Sw("BPF_OUTPUT", 10, "BPF output event", "bpf-output");
        Sw("CGROUP_SWITCHES", 11, "Context switches to a task in a different cgroup", "cgroup-switches");

        // perf's names for the caches, and the verbs/nouns it uses per operation.
        string[] canonicalCache = { "l1d", "l1i", "llc", "dtlb", "itlb", "bpu", "node" };
        string[] perfCache = { "L1-dcache", "L1-icache", "LLC", "dTLB", "iTLB", "branch", "node" };
        string[] pascalCache = { "L1d", "L1i", "Llc", "Dtlb", "Itlb", "Bpu", "Node" };
        string[] perfOp = { "load", "store", "prefetch" };
        string[] perfOpPlural = { "loads", "stores", "prefetches" };
        string[] describeCache = { "L1 data cache", "L1 instruction cache", "last-level cache", "data TLB", "instruction TLB", "branch prediction unit", "local memory (NUMA node)" };
        for (var c = 0; c < CacheIds.Length; c++)
        {
            for (var op = 0; op < CacheOps.Length; op++)
            {
                for (var result = 0; result < CacheResults.Length; result++)
                {
                    var canonical = $"{canonicalCache[c]}_{CacheOps[op]}_{CacheResults[result]}";
                    var opPascal = char.ToUpperInvariant(CacheOps[op][0]) + CacheOps[op][1..];
                    var resultPascal = char.ToUpperInvariant(CacheResults[result][0]) + CacheResults[result][1..];
                    var aliases = new List<string>
                    {
                        result == 1 ? $"{perfCache[c]}-{perfOp[op]}-misses" : $"{perfCache[c]}-{perfOpPlural[op]}",
                        $"{pascalCache[c]}{opPascal}{resultPascal}",
                        $"PERF_COUNT_HW_CACHE_{CacheIds[c].Name}:{CacheOps[op]}:{CacheResults[result]}",
                    };
                    if (op == 0 && result == 1)
                    {
                        aliases.Add("PERF_COUNT_HW_CACHE_" + CacheIds[c].Name);
                    }

                    list.Add(new PerfEventCatalogEntry(
                        canonical,
                        PerfEventKind.HardwareCache,
                        TypeHardwareCache,
                        CacheConfig(CacheIds[c].Id, (uint)op, (uint)result),
                        aliases,
                        $"{describeCache[c]}: {CacheOps[op]} {(result == 1 ? "misses" : "accesses")}"));
                }
            }
        }

        return list;
    }

    private static PerfEventCatalogEntry Named(string kernel, string prefix, PerfEventKind kind, uint type, ulong config, string description, string[] perfNames)
    {
        var canonical = kernel.ToLowerInvariant();
        var pascal = string.Concat(canonical.Split('_').Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
        var aliases = new List<string> { prefix + kernel, pascal };
        foreach (var perfName in perfNames)
        {
            aliases.Add(perfName);
            var perfPascal = string.Concat(perfName.Split('-').Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
            if (!aliases.Contains(perfPascal, StringComparer.Ordinal))
            {
                aliases.Add(perfPascal); // Cycles, CacheMisses, ContextSwitches as the cmdlets write them
            }
        }

        return new PerfEventCatalogEntry(canonical, kind, type, config, aliases.Where(a => a != canonical).Distinct(StringComparer.Ordinal).ToArray(), description);
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
