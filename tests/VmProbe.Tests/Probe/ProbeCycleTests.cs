using VmProbe.Tests.Infrastructure;
using System.Text.RegularExpressions;
using Xunit;
using VmProbe.Composition;

namespace VmProbe.Tests.Probe;

[Collection(ProcessWideCollection.Name)]
public class ProbeCycleTests
{
    private static double Value(Dictionary<string, List<(string Labels, double Value)>> set, string family, string labels) =>
        Assert.Single(set[family], s => s.Labels == labels).Value;

    [Fact]
    public void FailingSourceIsCountedAndTheOthersStillEmit()
    {
        var log = new RecordingLog();
        var before = new KnownSource("host");
        var failing = new KnownSource("perf") { FailWith = new InvalidOperationException("no PMU") };
        var after = new KnownSource("procfs");
        var cycle = new ProbeCycle(null, new IMetricSource[] { before, failing, after }, log, 5000);

        var first = SnapshotSink.Snapshot(cycle.Collect(CancellationToken.None));
        var second = SnapshotSink.Snapshot(cycle.Collect(CancellationToken.None));

        Assert.Equal(1, Value(first, "host_value", "domain=none"));
        Assert.Equal(1, Value(first, "procfs_value", "domain=none"));
        Assert.False(first.ContainsKey("perf_value"));
        Assert.Equal(1, Value(first, "probe_errors_total", "source=perf"));
        Assert.Equal(2, Value(second, "probe_errors_total", "source=perf"));
        Assert.Equal(2, Value(second, "procfs_value", "domain=none"));
        Assert.Equal(2, cycle.ErrorCount("perf"));
    }

    [Fact]
    public void ErrorCounterHasEveryKnownSourceFromTheFirstCycle()
    {
        var discovery = new ListDiscovery();
        var cycle = new ProbeCycle(discovery, new IMetricSource[] { new KnownSource("host"), new KnownSource("perf") }, new RecordingLog(), 5000);

        var set = SnapshotSink.Snapshot(cycle.Collect(CancellationToken.None));

        Assert.Equal(
            new[] { "source=libvirt", "source=host", "source=perf", "source=textfile" },
            set["probe_errors_total"].Select(s => s.Labels));
        Assert.All(set["probe_errors_total"], s => Assert.Equal(0, s.Value));
    }

    [Fact]
    public void AFailureIsLoggedOnceAtErrorThenDebugAndTheRecoveryOnceAtInfo()
    {
        var log = new RecordingLog();
        var source = new KnownSource("libvirt") { FailWith = new VmProbeException("connection lost", "virConnect,VIR_ERR_SYSTEM_ERROR", ProbeErrorKind.ConnectionError) };
        var cycle = new ProbeCycle(null, new IMetricSource[] { source }, log, 5000);

        for (var i = 0; i < 3; i++)
        {
            cycle.Collect(CancellationToken.None);
        }

        source.FailWith = null;
        cycle.Collect(CancellationToken.None);
        cycle.Collect(CancellationToken.None);

        Assert.Equal(1, log.Count(LogLevel.Error, "source libvirt failed: connection lost [virConnect,VIR_ERR_SYSTEM_ERROR]"));
        Assert.Equal(2, log.Count(LogLevel.Debug, "source libvirt still failing"));
        Assert.Equal(1, log.Count(LogLevel.Info, "source libvirt recovered after 3 failure(s)"));
        Assert.Equal(4, log.Lines.Count(l => l.Message.Contains("libvirt", StringComparison.Ordinal)));
    }

    [Fact]
    public void ADifferentFailureWhileFailingIsLoggedAgainAtError()
    {
        var log = new RecordingLog();
        var source = new KnownSource("perf") { FailWith = new IOException("EMFILE") };
        var cycle = new ProbeCycle(null, new IMetricSource[] { source }, log, 5000);
        cycle.Collect(CancellationToken.None);
        source.FailWith = new IOException("ENOMEM");
        cycle.Collect(CancellationToken.None);

        Assert.Equal(1, log.Count(LogLevel.Error, "failed: IOException: EMFILE"));
        Assert.Equal(1, log.Count(LogLevel.Error, "failed differently: IOException: ENOMEM"));
    }

    [Fact]
    public void ALibvirtDeadlineOverrunAndTheCallsNotIssuedBehindItAreOneCondition()
    {
        var log = new RecordingLog();
        var source = new KnownSource("libvirt");
        var cycle = new ProbeCycle(null, new IMetricSource[] { source }, log, 5000);
        for (var i = 0; i < 6; i++)
        {
            // A slow libvirtd: the call overruns, the next is not issued behind it, the next overruns again...
            source.FailWith = new VmProbe.Libvirt.LibvirtTimeoutException("virConnectGetAllDomainStats", "qemu:///system", TimeSpan.FromSeconds(1), stillHung: i % 2 == 1);
            cycle.Collect(CancellationToken.None);
        }

        Assert.Equal(1, log.Count(LogLevel.Error, "source libvirt failed: "));
        Assert.Equal(0, log.Count(LogLevel.Error, "failed differently"));
        Assert.Equal(5, log.Count(LogLevel.Debug, "source libvirt still failing"));
    }

    [Fact]
    public void FailingDiscoveryIsCountedAndTheCycleRunsWithZeroDomains()
    {
        var discovery = new ListDiscovery { FailWith = new VmProbeException("libvirtd down", "virConnectOpen", ProbeErrorKind.ConnectionError) };
        var source = new KnownSource("host");
        var log = new RecordingLog();
        var cycle = new ProbeCycle(discovery, new IMetricSource[] { source }, log, 5000);

        var set = SnapshotSink.Snapshot(cycle.Collect(CancellationToken.None));

        Assert.Empty(source.SeenDomains.Single());
        Assert.Equal(1, Value(set, "host_value", "domain=none"));
        Assert.Equal(1, Value(set, "probe_errors_total", "source=libvirt"));
        Assert.Equal(0, Value(set, "probe_domains", string.Empty));
        Assert.Equal(1, log.Count(LogLevel.Error, "domain discovery libvirt failed: libvirtd down"));
    }

    [Fact]
    public void SourcesSeeTheDiscoveredDomains()
    {
        var discovery = new ListDiscovery();
        discovery.Domains.Add(new VmDomain { Name = "web1", Pid = 100 });
        discovery.Domains.Add(new VmDomain { Name = "db1", Pid = 200 });
        var source = new KnownSource("procfs");
        var cycle = new ProbeCycle(discovery, new IMetricSource[] { source }, new RecordingLog(), 5000);

        var set = SnapshotSink.Snapshot(cycle.Collect(CancellationToken.None));

        Assert.Equal(new[] { "web1", "db1" }, source.SeenDomains.Single().Select(d => d.Name));
        Assert.Equal(new[] { "domain=web1", "domain=db1" }, set["procfs_value"].Select(s => s.Labels));
        Assert.Equal(2, Value(set, "probe_domains", string.Empty));
    }

    [Fact]
    public void ProbeMetricsDescribeTheCycle()
    {
        var clock = new ManualProbeClock { MonotonicMilliseconds = 1500 };
        var source = new KnownSource("host", clock);
        source.DurationByCall[0] = 250; // moves the manual clock only; the duration metric uses the real stopwatch
        var cycle = new ProbeCycle(null, new IMetricSource[] { source }, new RecordingLog(), 2500, clock);

        var set = SnapshotSink.Snapshot(cycle.Collect(CancellationToken.None));

        Assert.Equal(1, Value(set, "probe_info", $"version={ProbeInfo.Version}"));
        Assert.Equal(clock.WallStart.AddMilliseconds(1500).ToUnixTimeMilliseconds() / 1000.0, Value(set, "probe_last_cycle_timestamp_seconds", string.Empty));
        Assert.Equal(2.5, Value(set, "probe_interval_seconds", string.Empty));
        var duration = Value(set, "probe_cycle_duration_seconds", string.Empty);
        Assert.InRange(duration, 0, 60);
        var fds = Value(set, "probe_open_fds", string.Empty);
        var actual = Directory.GetFiles("/proc/self/fd").Length - 1;
        Assert.InRange(fds, Math.Max(1, actual - 20), actual + 20); // other test threads open and close files meanwhile
    }

    [Fact]
    public void ProbeInfoVersionIsTheManifestVersion()
    {
        var manifest = File.ReadAllText(Path.Combine(RepoRoot(), "VmProbe.psd1"));
        var version = Regex.Match(manifest, @"ModuleVersion\s*=\s*'([0-9.]+)'").Groups[1].Value;
        Assert.Equal(version, ProbeInfo.Version);
    }

    [Fact]
    public void TheMetricSetIsReusedWithoutAccumulatingSamples()
    {
        var cycle = new ProbeCycle(null, new IMetricSource[] { new KnownSource("host") }, new RecordingLog(), 5000);
        var first = cycle.Collect(CancellationToken.None);
        var familyCount = first.Families.Count;
        var second = cycle.Collect(CancellationToken.None);

        Assert.Same(first, second);
        Assert.Equal(familyCount, second.Families.Count);
        Assert.All(second.Families, family => Assert.True(family.Samples.Count <= 4, family.Name));
        Assert.True(second.TryGet("host_value", out var host));
        Assert.Equal(2, Assert.Single(host.Samples).Value);
    }

    internal static string RepoRoot() => RepoPaths.Root;

    [Fact]
    public void PartsASourceSummarisedItselfAreCountedWithoutALineOfTheCycle()
    {
        var log = new RecordingLog();
        var summarised = new VmProbeException("domain 'a' is not counted", "perf_fd_budget,EMFILE", ProbeErrorKind.ResourceUnavailable) { LoggedBySource = true };
        var source = new ItemErrorSource("perf");
        var cycle = new ProbeCycle(null, new IMetricSource[] { source }, log, 5000);

        source.Errors.AddRange(new[] { summarised, summarised });
        cycle.Collect(CancellationToken.None);
        cycle.Collect(CancellationToken.None);
        Assert.Equal(4, cycle.ErrorCount("perf"));
        Assert.Empty(log.Lines);

        // A part the source did not log is logged by the cycle as before, and counted with the rest.
        source.Errors.Add(new VmProbeException("meminfo unreadable", "read,EIO", ProbeErrorKind.InvalidData));
        cycle.Collect(CancellationToken.None);
        Assert.Equal(7, cycle.ErrorCount("perf"));
        Assert.Equal(1, log.Count(LogLevel.Error, "source perf failed: meminfo unreadable [read,EIO]"));
    }

    private sealed class ItemErrorSource(string name) : IMetricSource
    {
        public string Name { get; } = name;

        public List<VmProbeException> Errors { get; } = new();

        public void Collect(CycleContext context, MetricSet metrics)
        {
            foreach (var error in Errors)
            {
                context.ItemErrors!.Add(error);
            }
        }

        public void Dispose()
        {
        }
    }
}
