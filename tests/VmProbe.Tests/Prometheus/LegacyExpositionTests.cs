using System.Globalization;
using System.Text;
using VmProbe.Config;
using VmProbe.Perf;
using VmProbe.Procfs;
using VmProbe.Prometheus;
using VmProbe.Tests.Infrastructure;
using VmProbe.Tests.Perf;
using Xunit;

namespace VmProbe.Tests.Prometheus;

[Collection(ProcessWideCollection.Name)]
public class LegacyExpositionTests
{
    private const string UuidA = "6f1c2d3e-0000-4000-8000-00000000b001";

    public static IEnumerable<object[]> NamedKernelEvents() =>
        PerfEventCatalog.All
            .Select(e => (Entry: e, Kernel: e.Aliases.FirstOrDefault(a => a.StartsWith("PERF_COUNT_", StringComparison.Ordinal) && !a.Contains(':'))))
            .Where(x => x.Kernel is not null)
            .Select(x => new object[] { x.Entry.CanonicalName, x.Kernel! });

    [Theory]
    [MemberData(nameof(NamedKernelEvents))]
    public void PerfKeyIsTheKernelNameWithoutPerfCountAndUnderscoresLowercased(string canonical, string kernelName)
    {
        // The C++ rule, applied to the catalog's kernel spelling of the event.
        var expected = "perf_" + kernelName["PERF_COUNT_".Length..].Replace("_", string.Empty, StringComparison.Ordinal).ToLowerInvariant();
        Assert.Equal(expected, LegacyExposition.PerfKey(PerfEventCatalog.Parse(canonical)));
    }

    [Fact]
    public void PerfKeyOfTracepointsAndOtherCacheCombinations()
    {
        Assert.Equal("perf_1234", LegacyExposition.PerfKey(PerfEventCatalog.Parse("1234", bareNumberIsTracepoint: true)));
        Assert.Equal("perf_77", LegacyExposition.PerfKey(PerfEventCatalog.Parse("tracepoint:77")));
        Assert.Equal("perf_sched_sched_switch", LegacyExposition.PerfKey(PerfEventCatalog.Parse("sched:sched_switch")));
        Assert.Equal("perf_hwcachel1dwriteaccess", LegacyExposition.PerfKey(PerfEventCatalog.Parse("PERF_COUNT_HW_CACHE_L1D:write:access")));
        Assert.Equal("perf_hwcachell", LegacyExposition.PerfKey(PerfEventCatalog.Parse("PERF_COUNT_HW_CACHE_LL")));
    }

    [Fact]
    public void PerfValuesAreDeltasBetweenCyclesSummedOverCpusAndARestartedVmIsTakenWhole()
    {
        var taskClock = PerfEventCatalog.Parse("task-clock");
        var cycles = PerfEventCatalog.Parse("cpu-cycles");
        var legacy = new LegacyExposition(new[] { taskClock, cycles }, 5000, NullProbeLog.Instance);
        double[][] host = { new[] { 400.0, 600 }, new[] { 1000.0, 1500 }, new[] { 1100.0, 1550 } }; // per cycle, per CPU
        double[] vm = { 7000, 9500, 300 }; // the third cycle: the VM was restarted, its counters reopened

        var outputs = new List<MetricSet>();
        for (var cycle = 0; cycle < 3; cycle++)
        {
            var labelled = new MetricSet();
            var hostFamily = labelled.Family("host_perf_events_total", MetricType.Counter, "h", "cpu", "event");
            hostFamily.Add(host[cycle][0], "0", taskClock.CanonicalName);
            hostFamily.Add(host[cycle][1], "1", taskClock.CanonicalName);
            labelled.Family("domain_perf_events_total", MetricType.Counter, "d", "domain", "uuid", "event")
                .Add(vm[cycle], "web-01", UuidA, cycles.CanonicalName);
            outputs.Add(legacy.Transform(labelled));
        }

        for (var cycle = 0; cycle < 3; cycle++)
        {
            var hostNow = host[cycle].Sum();
            var hostExpected = cycle == 0 ? hostNow : hostNow - host[cycle - 1].Sum();
            Assert.Equal(hostExpected, Single(outputs[cycle], "global_perf_swtaskclock"));
            var vmExpected = cycle == 0 || vm[cycle] < vm[cycle - 1] ? vm[cycle] : vm[cycle] - vm[cycle - 1];
            Assert.Equal(vmExpected, Single(outputs[cycle], "domain_web_01_perf_hwcpucycles"));
        }

        Assert.All(outputs.SelectMany(o => o.Families), f =>
        {
            Assert.Equal(f.Name.EndsWith("_total", StringComparison.Ordinal) ? MetricType.Untyped : MetricType.Gauge, f.Type);
            Assert.Empty(f.LabelNames);
            Assert.False(string.IsNullOrWhiteSpace(f.Help));
        });
    }

    [Fact]
    public void AVmThatLeavesAndComesBackStartsFromItsNewCounters()
    {
        var taskClock = PerfEventCatalog.Parse("task-clock");
        var legacy = new LegacyExposition(new[] { taskClock }, 5000, NullProbeLog.Instance);
        Assert.Equal(500, Single(legacy.Transform(DomainPerf(("vm1", 500))), "domain_vm1_perf_swtaskclock"));
        var without = legacy.Transform(DomainPerf(("vm2", 10)));
        Assert.False(without.TryGet("domain_vm1_perf_swtaskclock", out _));
        Assert.Equal(800, Single(legacy.Transform(DomainPerf(("vm1", 800), ("vm2", 30))), "domain_vm1_perf_swtaskclock"));
    }

    [Fact]
    public void VmNamesAreSanitizedAndCollisionsGetADeterministicHashSuffixLoggedOnce()
    {
        var log = new RecordingLog();
        var legacy = new LegacyExposition(new[] { PerfEventCatalog.Parse("task-clock") }, 5000, log);
        string[] vms = { "web.01", "web-01", "db", "web 01", "ünï" };
        var labelled = DomainPerf(vms.Select((v, i) => (v, 100.0 * (i + 1))).ToArray());

        var first = legacy.Transform(labelled);
        var second = legacy.Transform(labelled);

        // Expected from the rule: [A-Za-z0-9_] kept, the rest '_'; the ordinally smallest original of a group keeps the name.
        static string Safe(string name) => new(name.Select(c => c < 128 && (char.IsLetterOrDigit(c) || c == '_') ? c : '_').ToArray());
        var owners = vms.GroupBy(Safe).ToDictionary(g => g.Key, g => g.OrderBy(v => v, StringComparer.Ordinal).First());
        foreach (var (vm, index) in vms.Select((v, i) => (v, i)))
        {
            var expectedPart = owners[Safe(vm)] == vm ? Safe(vm) : Safe(vm) + "_" + Fnv1a(vm).ToString("x8", CultureInfo.InvariantCulture);
            Assert.Equal(100.0 * (index + 1), Single(first, $"domain_{expectedPart}_perf_swtaskclock"));
            Assert.Equal(0, Single(second, $"domain_{expectedPart}_perf_swtaskclock"));
            Assert.Equal(expectedPart, legacy.VmNames[vm]);
        }

        Assert.Equal("web_01", legacy.VmNames["web 01"]);
        Assert.Equal(vms.Length, first.Families.Count(f => f.Name.StartsWith("domain_", StringComparison.Ordinal)));
        var warnings = log.Lines.Where(l => l.Level == LogLevel.Warning).Select(l => l.Message).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.Contains(warnings, w => w.Contains("'web-01'") && w.Contains("'web 01'"));
        Assert.Contains(warnings, w => w.Contains("'web.01'") && w.Contains("'web 01'"));
    }

    [Fact]
    public void GlobalAndDomainGaugesUseTheCppUnits()
    {
        var legacy = new LegacyExposition(Array.Empty<PerfEventSpec>(), 2500, NullProbeLog.Instance);
        var labelled = new MetricSet();
        labelled.Family("probe_last_cycle_timestamp_seconds", MetricType.Gauge, "t").Add(1_700_000_123.75);
        labelled.Family("host_memory_total_bytes", MetricType.Gauge, "m").Add(8_388_608_000);
        labelled.Family("host_memory_available_bytes", MetricType.Gauge, "m").Add(1_048_576);
        var cpu = labelled.Family("host_cpu_seconds_total", MetricType.Counter, "c", "mode");
        var modes = new Dictionary<string, double> { ["user"] = 10.5, ["nice"] = 0.25, ["system"] = 3, ["idle"] = 100, ["iowait"] = 1.5, ["irq"] = 0.125, ["softirq"] = 0.5, ["steal"] = 9 };
        foreach (var (mode, seconds) in modes)
        {
            cpu.Add(seconds, mode);
        }

        labelled.Family("domain_vcpus", MetricType.Gauge, "v", "domain", "uuid").Add(4, "db-1", UuidA);
        labelled.Family("domain_cpu_seconds_total", MetricType.Counter, "c", "domain", "uuid").Add(12.5, "db-1", UuidA);
        labelled.Family("domain_memory_rss_bytes", MetricType.Gauge, "r", "domain", "uuid").Add(2048 * 1024, "db-1", UuidA);
        labelled.Family("domain_vcpu_seconds_total", MetricType.Counter, "x", "domain", "uuid", "vcpu").Add(1, "db-1", UuidA, "0");

        var output = legacy.Transform(labelled);
        Assert.Equal(1_700_000_123, Single(output, "global_probe_epoch"));
        Assert.Equal(2500, Single(output, "global_probe_delay"));
        Assert.Equal(8_388_608_000 / 1024.0, Single(output, "global_memory_total"));
        Assert.True(output.TryGet("global_memory_total", out var memoryTotal));
        Assert.Equal(MetricType.Untyped, memoryTotal.Type); // a gauge named *_total fails promtool's lint
        Assert.True(output.TryGet("global_memory_available", out var memoryAvailable));
        Assert.Equal(MetricType.Gauge, memoryAvailable.Type);
        Assert.Equal(1024, Single(output, "global_memory_available"));
        Assert.False(output.TryGet("global_memory_free", out _));
        Assert.Equal((modes["system"] + modes["irq"] + modes["softirq"]) * 1e9, Single(output, "global_cpu_kernel"));
        Assert.Equal((modes["user"] + modes["nice"]) * 1e9, Single(output, "global_cpu_user"));
        Assert.Equal(modes["idle"] * 1e9, Single(output, "global_cpu_idle"));
        Assert.Equal(modes["iowait"] * 1e9, Single(output, "global_cpu_iowait"));
        Assert.Equal(4, Single(output, "domain_db_1_cpu_alloc"));
        Assert.Equal(12.5e9, Single(output, "domain_db_1_cpu_cputime"));
        Assert.Equal(2048, Single(output, "domain_db_1_memory_rss"));
        Assert.DoesNotContain(output.Families, f => f.Name.Contains("vcpu", StringComparison.Ordinal));
    }

    [Fact]
    public void ProbeEpoch_ComesFromTheCycleFamily_ElseFromTheGivenTime_ElseIsLeftOut()
    {
        var legacy = new LegacyExposition(Array.Empty<PerfEventSpec>(), 1000, NullProbeLog.Instance);
        var piped = new MetricSet();
        piped.Family("host_memory_total_bytes", MetricType.Gauge, "m").Add(1024);
        var writtenAt = DateTimeOffset.FromUnixTimeMilliseconds(1_750_000_000_900);

        Assert.Equal(1_750_000_000, Single(legacy.Transform(piped, writtenAt), "global_probe_epoch"));
        Assert.False(legacy.Transform(piped).TryGet("global_probe_epoch", out _));

        var cycle = new MetricSet();
        cycle.Family("probe_last_cycle_timestamp_seconds", MetricType.Gauge, "t").Add(1_700_000_000.5);
        Assert.Equal(1_700_000_000, Single(legacy.Transform(cycle, writtenAt), "global_probe_epoch"));
    }

    [SkippableFact]
    public void RealPerfAndHostSourcesGivePromtoolCleanOutputInBothNamings()
    {
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        Skip.IfNot(Promtool.IsAvailable, Promtool.UnavailableReason);
        using var vcpus = new FakeVcpus(2);
        var domain = vcpus.Domain("web.01-eu", Guid.Parse(UuidA));
        var config = PerfMetricsSourceTests.Config(PerfAttribution.Thread, "task-clock", "context-switches", "instructions");
        using var perf = new PerfMetricsSource(config, NullProbeLog.Instance);
        using var hostSource = new HostProcfsSource();
        var legacy = new LegacyExposition(config.Events, 5000, NullProbeLog.Instance);
        perf.Prepare(PerfMetricsSourceTests.Context(domain));

        MetricSet? labelled = null;
        MetricSet? legacyOut = null;
        for (var cycle = 0; cycle < 2; cycle++)
        {
            vcpus.Workers[0].Do(() => WorkerThread.SpinCpu(TimeSpan.FromMilliseconds(30)));
            labelled = new MetricSet();
            var context = PerfMetricsSourceTests.Context(domain);
            hostSource.Collect(context, labelled);
            perf.Collect(context, labelled);
            legacyOut = legacy.Transform(labelled);
        }

        foreach (var (set, what) in new[] { (labelled!, "labelled"), (legacyOut!, "legacy") })
        {
            var writer = new PromTextWriter("vmprobe");
            var text = Encoding.UTF8.GetString(writer.Render(set, out var result).Span);
            Assert.Equal(0, result.DuplicateSeriesDropped + result.ClashingFamiliesDropped);
            var (exit, output) = Promtool.Check(text);
            Assert.True(exit == 0, $"promtool check metrics ({what}) exit {exit}: {output}\n{text}");
            if (what == "legacy")
            {
                Assert.Contains("# TYPE vmprobe_global_memory_total untyped\n", text);
                Assert.Contains("\nvmprobe_domain_web_01_eu_perf_swtaskclock ", text);
                Assert.DoesNotContain("{", text); // no labels at all
            }
        }

        Assert.True(Single(legacyOut!, "domain_web_01_eu_perf_swtaskclock") >= 25_000_000);
        Assert.True(Single(legacyOut!, "global_perf_swtaskclock") >= 25_000_000);
        Assert.True(legacyOut!.TryGet("global_memory_total", out _));
        Assert.True(legacyOut!.TryGet("global_cpu_idle", out _));
    }

    private static MetricSet DomainPerf(params (string Vm, double Value)[] vms)
    {
        var labelled = new MetricSet();
        var family = labelled.Family("domain_perf_events_total", MetricType.Counter, "d", "domain", "uuid", "event");
        foreach (var (vm, value) in vms)
        {
            family.Add(value, vm, UuidA, "task_clock");
        }

        return labelled;
    }

    private static double Single(MetricSet set, string name)
    {
        Assert.True(set.TryGet(name, out var family), $"no line {name}; have {string.Join(" ", set.Families.Select(f => f.Name))}");
        return Assert.Single(family.Samples).Value;
    }

    private static uint Fnv1a(string text)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = unchecked((hash ^ b) * 16777619u);
        }

        return hash;
    }
}

/// <summary>Issue "Hostile hosts": VM names with unit-like tokens must not make legacy names fail promtool's lint.</summary>
[Collection(ProcessWideCollection.Name)]
public class LegacyUnitLikeVmNameTests
{
    [Theory]
    [InlineData("web-b", "webb")]
    [InlineData("db-ms", "dbms")]
    [InlineData("vm-d", "vmd")]
    [InlineData("ms-web", "msweb")]
    [InlineData("a--s--b", "asb")]
    [InlineData("d", "dvm")]
    [InlineData("_MS_", "MSvm")]
    [InlineData("s-h", "sh")]
    [InlineData("web-01", "web_01")]
    [InlineData("x.kb.y", "xkb_y")]
    public void UnitLikeTokensAreJoinedToANeighbour(string vm, string expected) =>
        Assert.Equal(expected, LegacyExposition.VmNamePart(vm));

    [SkippableFact]
    public void LegacyNamesOfVmsWithUnitLikeTokensArePromtoolClean()
    {
        Skip.IfNot(Promtool.IsAvailable, Promtool.UnavailableReason);
        string[] vms = { "web-b", "db-ms", "vm-d", "ms", "s-web", "cache-kb-1", "node-h", "a-sec", "B-KB", "vm-us-east", "x-ns", "y-gb", "z-tb", "p-pb", "q-mb", "r-m" };
        var set = new MetricSet();
        var family = set.Family("domain_vcpus", MetricType.Gauge, "vCPUs.", "domain");
        foreach (var vm in vms)
        {
            family.Add(2, new[] { vm });
        }

        var legacy = new LegacyExposition(Array.Empty<PerfEventSpec>(), 5000, NullProbeLog.Instance).Transform(set);
        var text = Encoding.UTF8.GetString(new PromTextWriter("vmprobe").Render(legacy, out _).Span);
        Assert.Equal(vms.Length, text.Split('\n').Count(l => l.StartsWith("vmprobe_domain_", StringComparison.Ordinal)));
        var (exit, output) = Promtool.Check(text);
        Assert.True(exit == 0, $"promtool check metrics exit {exit}: {output}\n{text}");
    }
}
