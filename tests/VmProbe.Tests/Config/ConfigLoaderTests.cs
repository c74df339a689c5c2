using VmProbe.Tests.Infrastructure;
using VmProbe.Config;
using VmProbe.Perf;
using Xunit;

namespace VmProbe.Tests.Config;

public sealed class ConfigLoaderTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("vmprobe-config-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string RepoFile(string relative) => RepoPaths.File(relative);

    private ConfigException LoadFails(string text, string name = "bad.yaml")
    {
        var path = Write(name, text);
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path));
        Assert.Equal(path, ex.File);
        Assert.All(ex.Errors, e => Assert.Equal(path, e.File));
        return ex;
    }

    [Fact]
    public void LegacyExampleLoadsUnchanged()
    {
        var path = RepoFile("config/legacy-vmprobe.yaml");
        var result = ConfigLoader.Load(path);
        Assert.Equal(ConfigFormat.KeyValue, result.Format);
        var c = result.Config;
        Assert.Equal(path, c.SourcePath);
        Assert.Equal("example", c.Prefix);
        Assert.Equal(5000, c.DelayMs);
        Assert.Equal("/var/lib/node_exporter/textfile_collector/vms.prom", c.Endpoint);
        Assert.Equal("qemu:///system", c.Url);
        Assert.Equal(new[] { "instructions", "cpu_cycles", "page_faults" }, c.Events.Select(e => e.CanonicalName));
        Assert.Equal(new[] { PerfEventKind.Hardware, PerfEventKind.Hardware, PerfEventKind.Software }, c.Events.Select(e => e.Kind));
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void BundledYamlExampleLoads()
    {
        var result = ConfigLoader.Load(RepoFile("config/vmprobe.yaml"));
        Assert.Equal(ConfigFormat.Yaml, result.Format);
        Assert.Empty(result.Warnings);
        var c = result.Config;
        Assert.Equal("vmprobe", c.Prefix);
        Assert.Equal(ProbeConfig.DefaultEndpoint, c.Endpoint);
        Assert.Equal(
            new[] { "instructions", "cpu_cycles", "task_clock", "context_switches", "page_faults", "cpu_migrations", "sched:sched_switch" },
            c.Events.Select(e => e.CanonicalName));
        Assert.Equal("sched:sched_switch", c.Events[^1].TracepointName);
        Assert.Equal((MetricNaming.Labelled, PerfAttribution.Thread, DomainDiscovery.Auto, false), (c.Naming, c.Attribution, c.Discovery, c.PerCpu));
    }

    [Theory]
    [InlineData("# nothing here\n\n")]
    [InlineData("")]
    [InlineData("---\n")]
    public void EmptyFileGivesDefaultsWithAWarning(string text)
    {
        var result = ConfigLoader.Load(Write("empty.yaml", text));
        var c = result.Config;
        Assert.Equal(("vmprobe", 5000, ProbeConfig.DefaultEndpoint, "qemu:///system"), (c.Prefix, c.DelayMs, c.Endpoint, c.Url));
        Assert.Empty(c.Events);
        var warning = Assert.Single(result.Warnings);
        Assert.Equal(ConfigLoader.FileKey, warning.Key);
        Assert.Contains("no settings", warning.Message);
        Assert.StartsWith($"{warning.File}: config: the config has no settings", warning.ToString());
    }

    [Fact]
    public void YamlListAndCommaStringGiveTheSameEvents()
    {
        var list = ConfigLoader.Parse("perfsoftware:\n  - task-clock\n  - cs\nperftracepoint: [sched:sched_switch, 42]\n", "list.yaml").Config;
        var text = ConfigLoader.Parse("perfsoftware: task-clock, cs\nperftracepoint: \"sched:sched_switch,42\"\n", "text.yaml").Config;
        var expected = new[] { "task_clock", "context_switches", "sched:sched_switch", "tracepoint_42" };
        Assert.Equal(expected, list.Events.Select(e => e.CanonicalName));
        Assert.Equal(list.Events, text.Events);
        Assert.Equal(42ul, list.Events[3].Config);
    }

    [Fact]
    public void AllKeysAreRead()
    {
        var c = ConfigLoader.Parse(
            "prefix: kvm_host\ndelay: 250\nendpoint: /tmp/x/out.prom\nurl: test:///default\nperfhardwarecache: [L1-dcache-load-misses, PERF_COUNT_HW_CACHE_LL:write:access]\n"
            + "naming: Legacy\nattribution: cgroup\ndiscovery: process\npercpu: yes\n",
            "all.yaml").Config;
        Assert.Equal(("kvm_host", 250, "/tmp/x/out.prom", "test:///default"), (c.Prefix, c.DelayMs, c.Endpoint, c.Url));
        Assert.Equal((MetricNaming.Legacy, PerfAttribution.Cgroup, DomainDiscovery.Process, true), (c.Naming, c.Attribution, c.Discovery, c.PerCpu));
        Assert.Equal(new[] { ("l1d_read_miss", 0x10000ul), ("llc_write_access", 0x102ul) }, c.Events.Select(e => (e.CanonicalName, e.Config)));
        Assert.Equal("all.yaml", c.SourcePath);
    }

    [Fact]
    public void EventUnderTheWrongKeyIsAcceptedWithAWarning()
    {
        var path = Write("wrong.yaml", "prefix: p\nperfhardware:\n  - instructions\n  - task-clock\n");
        var result = ConfigLoader.Load(path);
        Assert.Equal(new[] { "instructions", "task_clock" }, result.Config.Events.Select(e => e.CanonicalName));
        var warning = Assert.Single(result.Warnings);
        Assert.Equal((path, 4, "perfhardware"), (warning.File, warning.Line, warning.Key));
        Assert.Contains("'task-clock' is a software event", warning.Message);
        Assert.Contains("perfsoftware", warning.Message);
        Assert.StartsWith(path + ":4: ", warning.ToString());
    }

    [Fact]
    public void DuplicateEventIsCountedOnceWithAWarning()
    {
        var result = ConfigLoader.Parse("perfsoftware: task-clock, TaskClock\n", "dup.yaml");
        Assert.Single(result.Config.Events);
        Assert.Contains("1 repeated event is ignored", Assert.Single(result.Warnings).Message);
    }

    [Fact]
    public void UnknownKeyIsAWarningWithItsLine()
    {
        var path = Write("unknown.yaml", "prefix: p\n\ndelya: 1000\ncolour: blue\n");
        var result = ConfigLoader.Load(path);
        Assert.Equal(5000, result.Config.DelayMs);
        Assert.Equal(2, result.Warnings.Count);
        Assert.Equal((3, "delya"), (result.Warnings[0].Line, result.Warnings[0].Key));
        Assert.Contains("did you mean delay?", result.Warnings[0].Message);
        Assert.Equal((4, "colour"), (result.Warnings[1].Line, result.Warnings[1].Key));
        Assert.Contains("unknown key 'colour'", result.Warnings[1].Message);
    }

    [Fact]
    public void LegacyUnknownKeyIsAWarningWithItsLine()
    {
        var result = ConfigLoader.Parse("# c\nprefix=a\nfoo=bar\n", "legacy.yaml");
        Assert.Equal(ConfigFormat.KeyValue, result.Format);
        var warning = Assert.Single(result.Warnings);
        Assert.Equal((3, "foo"), (warning.Line, warning.Key));
    }

    [Fact]
    public void UnknownEventIsAnErrorWithLineKeyAndSuggestions()
    {
        var ex = LoadFails("prefix: p\nperfhardware:\n  - instructions\n  - cycels\n");
        var error = Assert.Single(ex.Errors);
        Assert.Equal((4, "perfhardware"), (error.Line, error.Key));
        Assert.Equal((4, "perfhardware"), (ex.Line, ex.Key));
        Assert.Equal($"{ex.File}:4: perfhardware: unknown perf event 'cycels'; did you mean cycles, cpu_cycles?", ex.Message);
        Assert.Equal("config,invalid", ex.ErrorId);
        Assert.IsAssignableFrom<VmProbeException>(ex);
    }

    [Fact]
    public void BadDelay()
    {
        var ex = LoadFails("prefix: p\ndelay: 50\n");
        var error = Assert.Single(ex.Errors);
        Assert.Equal((2, "delay"), (error.Line, error.Key));
        Assert.Equal($"{ex.File}:2: delay: must be an integer number of milliseconds >= 100, got '50'", ex.Message);
        Assert.Contains("got '5s'", LoadFails("delay: 5s\n").Message);
    }

    [Fact]
    public void EndpointMustEndInProm()
    {
        var ex = LoadFails("\nendpoint: /var/lib/node_exporter/vms.txt\n");
        var error = Assert.Single(ex.Errors);
        Assert.Equal((2, "endpoint"), (error.Line, error.Key));
        Assert.Contains("must be a file path ending in .prom", error.Message);
        Assert.Contains($"{ex.File}:2: endpoint: must be a file path", ex.Message);
        Assert.Contains("'/var/lib/node_exporter/vms.txt'", error.Message);
    }

    [Theory]
    [InlineData("prefix: 1abc\n", "prefix", "valid metric name prefix")]
    [InlineData("prefix: my-probe\n", "prefix", "'my-probe'")]
    [InlineData("naming: fancy\n", "naming", "must be labelled or legacy, got 'fancy'")]
    [InlineData("attribution: 1\n", "attribution", "must be thread or cgroup")]
    [InlineData("discovery: dbus\n", "discovery", "must be auto, libvirt or process")]
    [InlineData("percpu: maybe\n", "percpu", "must be true or false, got 'maybe'")]
    [InlineData("kvmstats: all\n", "kvmstats", "must be vm, vcpu or off")]
    [InlineData("kvmstatsallow: [exits, 'bad name']\n", "kvmstatsallow", "'bad name' is not a KVM statistic name")]
    [InlineData("delay: [1, 2]\n", "delay", "expected a single value, got a list")]
    [InlineData("perfsoftware: {a: 1}\n", "perfsoftware", "got a mapping")]
    [InlineData("perftracepoint: sched:sched switch\n", "perftracepoint", "invalid tracepoint")]
    public void InvalidValuesNameTheKey(string text, string key, string expected)
    {
        var error = Assert.Single(LoadFails(text).Errors);
        Assert.Equal((1, key), (error.Line, error.Key));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void KvmStatsKeys()
    {
        var defaults = ConfigLoader.Parse("prefix: p\n", "d.yaml").Config;
        var set = ConfigLoader.Parse("kvmstats: vcpu\nkvmstatsallow:\n  - exits\n  - halt_*\n  - exits\n", "k.yaml").Config;

        Assert.Equal(KvmStatsMode.Vm, defaults.KvmStats);
        Assert.Empty(defaults.KvmStatsAllow);
        Assert.Equal(KvmStatsMode.Vcpu, set.KvmStats);
        Assert.Equal(new[] { "exits", "halt_*" }, set.KvmStatsAllow);
        Assert.Equal(KvmStatsMode.Off, ConfigLoader.Parse("kvmstats: off\n", "o.yaml").Config.KvmStats);
    }

    [Fact]
    public void AllErrorsOfAFileAreReportedTogether()
    {
        var ex = LoadFails("prefix: 9\ndelay: 50\nendpoint: /tmp/a.txt\nperfsoftware:\n  - task-clock\n  - nosuchevent\nnaming: other\n");
        Assert.Equal(new int?[] { 1, 2, 3, 6, 7 }, ex.Errors.Select(e => e.Line));
        Assert.Equal(new[] { "prefix", "delay", "endpoint", "perfsoftware", "naming" }, ex.Errors.Select(e => e.Key));
        Assert.StartsWith($"5 errors in config {ex.File}:", ex.Message);
        foreach (var error in ex.Errors)
        {
            Assert.Contains($"{ex.File}:{error.Line}: ", ex.Message);
        }
    }

    [Fact]
    public void LegacyErrorsCarryTheirLine()
    {
        var ex = LoadFails("# VMProbe\nprefix=example\ndelay=50\nperfhardware=PERF_COUNT_HW_INSTRUCTIONS,PERF_COUNT_HW_CPU_CYCLEZ\nendpoint=/tmp/x.prom\n", "config.yaml");
        Assert.Equal(new int?[] { 3, 4 }, ex.Errors.Select(e => e.Line));
        Assert.Equal(new[] { "delay", "perfhardware" }, ex.Errors.Select(e => e.Key));
        Assert.Contains("PERF_COUNT_HW_CPU_CYCLES", ex.Errors[1].Message);
    }

    [Fact]
    public void LegacyLineWithoutEqualsIsAnError()
    {
        var ex = LoadFails("prefix=a\ndelay 5000\n");
        var error = Assert.Single(ex.Errors);
        Assert.Equal(2, error.Line);
        Assert.Contains("expected key=value, got 'delay 5000'", error.Message);
    }

    [Fact]
    public void YamlSyntaxErrorNamesTheLine()
    {
        var ex = LoadFails("prefix: p\ndelay: 5000\nperfsoftware: [task-clock\nurl: x\n");
        var error = Assert.Single(ex.Errors);
        Assert.NotNull(error.Line);
        Assert.InRange(error.Line!.Value, 3, 5);
        Assert.Contains("YAML syntax error", error.Message);
        Assert.DoesNotContain("(Line:", error.Message);
    }

    [Fact]
    public void YamlDuplicateKeyIsAnErrorWithLine()
    {
        var ex = LoadFails("delay: 1000\ndelay: 2000\n");
        var error = Assert.Single(ex.Errors);
        Assert.Equal(2, error.Line);
    }

    [Fact]
    public void NonMappingYamlIsAnError()
    {
        var error = Assert.Single(LoadFails("- a\n- b\n").Errors);
        Assert.Equal(1, error.Line);
        Assert.Contains("must be a YAML mapping", error.Message);
    }

    [Fact]
    public void MissingFileNamesTheFileAndTheReason()
    {
        var path = Path.Combine(dir, "absent.yaml");
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path));
        Assert.Equal(path, ex.File);
        Assert.Null(ex.Line);
        Assert.Equal($"{path}: config: cannot read config file '{path}': No such file or directory", ex.Message);
        Assert.Equal(("config,ENOENT", ProbeErrorKind.NotFound), (ex.ErrorId, ex.Kind));
    }

    [Fact]
    public void DirectoryIsNotAConfigFile()
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(dir));
        Assert.Contains("Is a directory", ex.Message);
        Assert.Equal(dir, ex.File);
    }

    [SkippableFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void UnreadableFileNamesPermissionDenied()
    {
        Skip.If(Tests.Infrastructure.Requirements.IsRoot, "root reads any file, so permission denied cannot be produced");
        var path = Write("secret.yaml", "prefix: p\n");
        File.SetUnixFileMode(path, UnixFileMode.None);
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path));
        Assert.Contains("Permission denied", ex.Message);
        Assert.Equal(ProbeErrorKind.PermissionDenied, ex.Kind);
    }
}
