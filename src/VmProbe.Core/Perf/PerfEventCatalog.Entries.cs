using System.Globalization;
using System.Text;

namespace VmProbe.Perf;

/// <summary>The event catalog, part 3: the table of named events (hardware, software, hardware-cache) and their spellings.</summary>
public static partial class PerfEventCatalog
{
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
}
