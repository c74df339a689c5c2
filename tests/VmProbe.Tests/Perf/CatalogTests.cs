using Xunit;
using VmProbe.Perf;

namespace VmProbe.Tests.Perf;

public class CatalogTests
{
    [Theory]
    // kernel ids
    [InlineData("PERF_COUNT_HW_CPU_CYCLES", "cpu_cycles", PerfEventKind.Hardware, 0u, 0ul)]
    [InlineData("PERF_COUNT_HW_INSTRUCTIONS", "instructions", PerfEventKind.Hardware, 0u, 1ul)]
    [InlineData("PERF_COUNT_HW_CACHE_REFERENCES", "cache_references", PerfEventKind.Hardware, 0u, 2ul)]
    [InlineData("PERF_COUNT_HW_CACHE_MISSES", "cache_misses", PerfEventKind.Hardware, 0u, 3ul)]
    [InlineData("PERF_COUNT_HW_BRANCH_INSTRUCTIONS", "branch_instructions", PerfEventKind.Hardware, 0u, 4ul)]
    [InlineData("PERF_COUNT_HW_BRANCH_MISSES", "branch_misses", PerfEventKind.Hardware, 0u, 5ul)]
    [InlineData("PERF_COUNT_HW_BUS_CYCLES", "bus_cycles", PerfEventKind.Hardware, 0u, 6ul)]
    [InlineData("PERF_COUNT_HW_STALLED_CYCLES_FRONTEND", "stalled_cycles_frontend", PerfEventKind.Hardware, 0u, 7ul)]
    [InlineData("PERF_COUNT_HW_STALLED_CYCLES_BACKEND", "stalled_cycles_backend", PerfEventKind.Hardware, 0u, 8ul)]
    [InlineData("PERF_COUNT_HW_REF_CPU_CYCLES", "ref_cpu_cycles", PerfEventKind.Hardware, 0u, 9ul)]
    [InlineData("PERF_COUNT_SW_CPU_CLOCK", "cpu_clock", PerfEventKind.Software, 1u, 0ul)]
    [InlineData("PERF_COUNT_SW_TASK_CLOCK", "task_clock", PerfEventKind.Software, 1u, 1ul)]
    [InlineData("PERF_COUNT_SW_PAGE_FAULTS", "page_faults", PerfEventKind.Software, 1u, 2ul)]
    [InlineData("PERF_COUNT_SW_CONTEXT_SWITCHES", "context_switches", PerfEventKind.Software, 1u, 3ul)]
    [InlineData("PERF_COUNT_SW_CPU_MIGRATIONS", "cpu_migrations", PerfEventKind.Software, 1u, 4ul)]
    [InlineData("PERF_COUNT_SW_PAGE_FAULTS_MIN", "page_faults_min", PerfEventKind.Software, 1u, 5ul)]
    [InlineData("PERF_COUNT_SW_PAGE_FAULTS_MAJ", "page_faults_maj", PerfEventKind.Software, 1u, 6ul)]
    [InlineData("PERF_COUNT_SW_ALIGNMENT_FAULTS", "alignment_faults", PerfEventKind.Software, 1u, 7ul)]
    [InlineData("PERF_COUNT_SW_EMULATION_FAULTS", "emulation_faults", PerfEventKind.Software, 1u, 8ul)]
    [InlineData("PERF_COUNT_SW_DUMMY", "dummy", PerfEventKind.Software, 1u, 9ul)]
    [InlineData("PERF_COUNT_SW_BPF_OUTPUT", "bpf_output", PerfEventKind.Software, 1u, 10ul)]
    [InlineData("PERF_COUNT_SW_CGROUP_SWITCHES", "cgroup_switches", PerfEventKind.Software, 1u, 11ul)]
    // perf-tool names
    [InlineData("cycles", "cpu_cycles", PerfEventKind.Hardware, 0u, 0ul)]
    [InlineData("cpu-cycles", "cpu_cycles", PerfEventKind.Hardware, 0u, 0ul)]
    [InlineData("instructions", "instructions", PerfEventKind.Hardware, 0u, 1ul)]
    [InlineData("cache-references", "cache_references", PerfEventKind.Hardware, 0u, 2ul)]
    [InlineData("cache-misses", "cache_misses", PerfEventKind.Hardware, 0u, 3ul)]
    [InlineData("branches", "branch_instructions", PerfEventKind.Hardware, 0u, 4ul)]
    [InlineData("branch-instructions", "branch_instructions", PerfEventKind.Hardware, 0u, 4ul)]
    [InlineData("branch-misses", "branch_misses", PerfEventKind.Hardware, 0u, 5ul)]
    [InlineData("bus-cycles", "bus_cycles", PerfEventKind.Hardware, 0u, 6ul)]
    [InlineData("stalled-cycles-frontend", "stalled_cycles_frontend", PerfEventKind.Hardware, 0u, 7ul)]
    [InlineData("stalled-cycles-backend", "stalled_cycles_backend", PerfEventKind.Hardware, 0u, 8ul)]
    [InlineData("ref-cycles", "ref_cpu_cycles", PerfEventKind.Hardware, 0u, 9ul)]
    [InlineData("cpu-clock", "cpu_clock", PerfEventKind.Software, 1u, 0ul)]
    [InlineData("task-clock", "task_clock", PerfEventKind.Software, 1u, 1ul)]
    [InlineData("page-faults", "page_faults", PerfEventKind.Software, 1u, 2ul)]
    [InlineData("faults", "page_faults", PerfEventKind.Software, 1u, 2ul)]
    [InlineData("minor-faults", "page_faults_min", PerfEventKind.Software, 1u, 5ul)]
    [InlineData("major-faults", "page_faults_maj", PerfEventKind.Software, 1u, 6ul)]
    [InlineData("context-switches", "context_switches", PerfEventKind.Software, 1u, 3ul)]
    [InlineData("cs", "context_switches", PerfEventKind.Software, 1u, 3ul)]
    [InlineData("cpu-migrations", "cpu_migrations", PerfEventKind.Software, 1u, 4ul)]
    [InlineData("migrations", "cpu_migrations", PerfEventKind.Software, 1u, 4ul)]
    [InlineData("alignment-faults", "alignment_faults", PerfEventKind.Software, 1u, 7ul)]
    [InlineData("emulation-faults", "emulation_faults", PerfEventKind.Software, 1u, 8ul)]
    // PascalCase (cmdlets), snake_case (canonical), odd case and separators
    [InlineData("Cycles", "cpu_cycles", PerfEventKind.Hardware, 0u, 0ul)]
    [InlineData("Instructions", "instructions", PerfEventKind.Hardware, 0u, 1ul)]
    [InlineData("CacheMisses", "cache_misses", PerfEventKind.Hardware, 0u, 3ul)]
    [InlineData("TaskClock", "task_clock", PerfEventKind.Software, 1u, 1ul)]
    [InlineData("PageFaults", "page_faults", PerfEventKind.Software, 1u, 2ul)]
    [InlineData("ContextSwitches", "context_switches", PerfEventKind.Software, 1u, 3ul)]
    [InlineData("CpuMigrations", "cpu_migrations", PerfEventKind.Software, 1u, 4ul)]
    [InlineData("task_clock", "task_clock", PerfEventKind.Software, 1u, 1ul)]
    [InlineData("TASK-CLOCK", "task_clock", PerfEventKind.Software, 1u, 1ul)]
    [InlineData("cpu_cycles", "cpu_cycles", PerfEventKind.Hardware, 0u, 0ul)]
    [InlineData("perf_count_sw_task_clock", "task_clock", PerfEventKind.Software, 1u, 1ul)]
    [InlineData("  instructions ", "instructions", PerfEventKind.Hardware, 0u, 1ul)]
    public void NamedEvents(string name, string canonical, PerfEventKind kind, uint type, ulong config)
    {
        var spec = PerfEventCatalog.Parse(name);
        Assert.Equal(canonical, spec.CanonicalName);
        Assert.Equal(kind, spec.Kind);
        Assert.Equal(type, spec.Type);
        Assert.Equal(config, spec.Config);
        Assert.Null(spec.TracepointName);
    }

    // Kernel: config = cache_id | (op_id << 8) | (result_id << 16); ids from include/uapi/linux/perf_event.h.
    private static ulong Kernel(uint cache, uint op, uint result) => cache | (op << 8) | (result << 16);

    [Theory]
    [InlineData("PERF_COUNT_HW_CACHE_L1D", "l1d_read_miss", 0u, 0u, 1u)]
    [InlineData("PERF_COUNT_HW_CACHE_L1I", "l1i_read_miss", 1u, 0u, 1u)]
    [InlineData("PERF_COUNT_HW_CACHE_LL", "llc_read_miss", 2u, 0u, 1u)]
    [InlineData("PERF_COUNT_HW_CACHE_DTLB", "dtlb_read_miss", 3u, 0u, 1u)]
    [InlineData("PERF_COUNT_HW_CACHE_ITLB", "itlb_read_miss", 4u, 0u, 1u)]
    [InlineData("PERF_COUNT_HW_CACHE_BPU", "bpu_read_miss", 5u, 0u, 1u)]
    [InlineData("PERF_COUNT_HW_CACHE_NODE", "node_read_miss", 6u, 0u, 1u)]
    [InlineData("PERF_COUNT_HW_CACHE_L1D:read:access", "l1d_read_access", 0u, 0u, 0u)]
    [InlineData("PERF_COUNT_HW_CACHE_L1D:write:miss", "l1d_write_miss", 0u, 1u, 1u)]
    [InlineData("PERF_COUNT_HW_CACHE_LL:prefetch:access", "llc_prefetch_access", 2u, 2u, 0u)]
    [InlineData("PERF_COUNT_HW_CACHE_LL:write", "llc_write_miss", 2u, 1u, 1u)]
    [InlineData("perf_count_hw_cache_node:WRITE:ACCESS", "node_write_access", 6u, 1u, 0u)]
    [InlineData("PERF_COUNT_HW_CACHE_DTLB:PERF_COUNT_HW_CACHE_OP_READ:PERF_COUNT_HW_CACHE_RESULT_ACCESS", "dtlb_read_access", 3u, 0u, 0u)]
    [InlineData("L1-dcache-loads", "l1d_read_access", 0u, 0u, 0u)]
    [InlineData("L1-dcache-load-misses", "l1d_read_miss", 0u, 0u, 1u)]
    [InlineData("L1-dcache-stores", "l1d_write_access", 0u, 1u, 0u)]
    [InlineData("L1-dcache-store-misses", "l1d_write_miss", 0u, 1u, 1u)]
    [InlineData("L1-dcache-prefetches", "l1d_prefetch_access", 0u, 2u, 0u)]
    [InlineData("L1-icache-load-misses", "l1i_read_miss", 1u, 0u, 1u)]
    [InlineData("LLC-loads", "llc_read_access", 2u, 0u, 0u)]
    [InlineData("LLC-load-misses", "llc_read_miss", 2u, 0u, 1u)]
    [InlineData("LLC-stores", "llc_write_access", 2u, 1u, 0u)]
    [InlineData("LLC-prefetch-misses", "llc_prefetch_miss", 2u, 2u, 1u)]
    [InlineData("dTLB-load-misses", "dtlb_read_miss", 3u, 0u, 1u)]
    [InlineData("iTLB-load-misses", "itlb_read_miss", 4u, 0u, 1u)]
    [InlineData("branch-loads", "bpu_read_access", 5u, 0u, 0u)]
    [InlineData("branch-load-misses", "bpu_read_miss", 5u, 0u, 1u)]
    [InlineData("node-loads", "node_read_access", 6u, 0u, 0u)]
    [InlineData("node-load-misses", "node_read_miss", 6u, 0u, 1u)]
    [InlineData("L1dReadMiss", "l1d_read_miss", 0u, 0u, 1u)]
    [InlineData("LlcWriteMiss", "llc_write_miss", 2u, 1u, 1u)]
    [InlineData("llc_write_miss", "llc_write_miss", 2u, 1u, 1u)]
    public void CacheEvents(string name, string canonical, uint cache, uint op, uint result)
    {
        var spec = PerfEventCatalog.Parse(name);
        Assert.Equal(canonical, spec.CanonicalName);
        Assert.Equal(PerfEventKind.HardwareCache, spec.Kind);
        Assert.Equal(3u, spec.Type);
        Assert.Equal(Kernel(cache, op, result), spec.Config);
    }

    [Fact]
    public void EveryCacheCombinationIsCatalogedWithTheKernelFormula()
    {
        string[] caches = { "l1d", "l1i", "llc", "dtlb", "itlb", "bpu", "node" };
        string[] ops = { "read", "write", "prefetch" };
        string[] results = { "access", "miss" };
        var cacheEntries = PerfEventCatalog.All.Where(e => e.Kind == PerfEventKind.HardwareCache).ToList();
        Assert.Equal(42, cacheEntries.Count);
        for (var c = 0u; c < caches.Length; c++)
        {
            for (var o = 0u; o < ops.Length; o++)
            {
                for (var r = 0u; r < results.Length; r++)
                {
                    var entry = Assert.Single(cacheEntries, e => e.CanonicalName == $"{caches[c]}_{ops[o]}_{results[r]}");
                    Assert.Equal(Kernel(c, o, r), entry.Config);
                    Assert.Equal(entry.Config, PerfEventCatalog.Parse($"PERF_COUNT_HW_CACHE_{(caches[c] == "llc" ? "LL" : caches[c].ToUpperInvariant())}:{ops[o]}:{results[r]}").Config);
                }
            }
        }

        // spot values computed by hand: LL write miss = 2 | 1<<8 | 1<<16
        Assert.Equal(0x10102ul, PerfEventCatalog.Parse("llc_write_miss").Config);
        Assert.Equal(0x10000ul, PerfEventCatalog.Parse("L1-dcache-load-misses").Config);
    }

    [Fact]
    public void AllHasUniqueCanonicalNamesAndEveryAliasParsesBackToItsEntry()
    {
        var all = PerfEventCatalog.All;
        Assert.Equal(10 + 12 + 42, all.Count);
        Assert.Equal(all.Count, all.Select(e => e.CanonicalName).Distinct().Count());
        foreach (var entry in all)
        {
            Assert.Matches("^[a-z0-9_]+$", entry.CanonicalName);
            Assert.False(string.IsNullOrWhiteSpace(entry.Description));
            foreach (var alias in entry.Aliases.Append(entry.CanonicalName))
            {
                var spec = PerfEventCatalog.Parse(alias);
                Assert.Equal(entry.CanonicalName, spec.CanonicalName);
                Assert.Equal((entry.Type, entry.Config), (spec.Type, spec.Config));
            }
        }
    }

    [Theory]
    [InlineData("sched:sched_switch", "sched:sched_switch")]
    [InlineData("kvm:kvm_exit", "kvm:kvm_exit")]
    public void NamedTracepointsKeepTheirNameAndAreResolvedLater(string name, string canonical)
    {
        var spec = PerfEventCatalog.Parse(name);
        Assert.Equal(canonical, spec.CanonicalName);
        Assert.Equal(PerfEventKind.Tracepoint, spec.Kind);
        Assert.Equal(2u, spec.Type);
        Assert.Equal(canonical, spec.TracepointName);
    }

    [Fact]
    public void NumericTracepoints()
    {
        var spec = PerfEventCatalog.Parse("tracepoint:1234");
        Assert.Equal(("tracepoint_1234", PerfEventKind.Tracepoint, 2u, 1234ul), (spec.CanonicalName, spec.Kind, spec.Type, spec.Config));
        Assert.Null(spec.TracepointName);

        var bare = PerfEventCatalog.Parse("317", bareNumberIsTracepoint: true);
        Assert.Equal(("tracepoint_317", 317ul), (bare.CanonicalName, bare.Config));

        // Outside the tracepoint list a bare number is not an event.
        Assert.Throws<UnknownPerfEventException>(() => PerfEventCatalog.Parse("317"));
    }

    [Fact]
    public void UnknownNameSuggestsClosestNames()
    {
        var ex = Assert.Throws<UnknownPerfEventException>(() => PerfEventCatalog.Parse("cycels"));
        Assert.Equal("unknown perf event 'cycels'; did you mean cycles, cpu_cycles?", ex.Message);
        Assert.Equal(new[] { "cycles", "cpu_cycles" }, ex.Suggestions.Take(2));
        Assert.Equal("perf_event,unknown", ex.ErrorId);
        Assert.Equal(ProbeErrorKind.InvalidArgument, ex.Kind);
        Assert.IsAssignableFrom<VmProbeException>(ex);
    }

    [Theory]
    [InlineData("task-clok", "task-clock")]
    [InlineData("PERF_COUNT_HW_INSTRUCTINS", "PERF_COUNT_HW_INSTRUCTIONS")]
    [InlineData("contextswitch", "context_switches")]
    [InlineData("LLC-load-mises", "LLC-load-misses")]
    public void SuggestionsContainTheIntendedName(string typo, string expected)
    {
        var ex = Assert.Throws<UnknownPerfEventException>(() => PerfEventCatalog.Parse(typo));
        Assert.Contains(expected, ex.Suggestions);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void NothingCloseGivesNoSuggestionButAPointer()
    {
        var ex = Assert.Throws<UnknownPerfEventException>(() => PerfEventCatalog.Parse("zzzzzzzzzzzz"));
        Assert.Empty(ex.Suggestions);
        Assert.Contains("'zzzzzzzzzzzz'", ex.Message);
        Assert.Contains("Get-VmPerfEvent", ex.Message);
    }

    [Theory]
    [InlineData("PERF_COUNT_HW_CACHE_L3", "L3")]
    [InlineData("PERF_COUNT_HW_CACHE_L1D:read:hit", "access or miss")]
    [InlineData("PERF_COUNT_HW_CACHE_L1D:load", "read, write or prefetch")]
    [InlineData("sched:sched switch", "invalid tracepoint")]
    [InlineData("", "empty")]
    public void MalformedNamesAreRejectedWithSpecificMessages(string name, string expected)
    {
        var ex = Assert.Throws<UnknownPerfEventException>(() => PerfEventCatalog.Parse(name));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void TryParseReportsInsteadOfThrowing()
    {
        Assert.True(PerfEventCatalog.TryParse("cs", false, out var spec, out var error));
        Assert.Equal("context_switches", spec!.CanonicalName);
        Assert.Null(error);
        Assert.False(PerfEventCatalog.TryParse("cycels", false, out spec, out error));
        Assert.Null(spec);
        Assert.Contains("did you mean", error);
    }
}
