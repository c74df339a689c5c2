using System.Text.RegularExpressions;
using VmProbe.Composition;
using VmProbe.Config;
using VmProbe.Perf;
using VmProbe.Tests.Probe;
using Xunit;
using VmProbe.Cli;

namespace VmProbe.Tests.Cli;

/// <summary>The runner's logic in-process, wired to test-local parts (the real config loader and writer are wired by the lead).</summary>
public class ProbeRunnerTests
{
    private static RunnerWiring Wiring(ProbeConfig config, SnapshotSink sink, KnownSource source, ManualProbeClock? clock = null, Func<string, LoadedConfig>? load = null) => new()
    {
        LoadConfig = load ?? (_ => new LoadedConfig(config, new[] { "key 'delay' is deprecated" })),
        StartProbe = (c, log) => ProbeRun.FromParts(null, new IMetricSource[] { source }, sink, log, c.DelayMs, clock ?? new ManualProbeClock()),
    };

    [Fact]
    public void OnceRunsOneCycleWritesItAndDisposesTheSources()
    {
        var sink = new SnapshotSink();
        var source = new KnownSource("host");
        var stderr = new StringWriter();

        var exit = ProbeRunner.Run(new[] { "--config", "c.yaml", "--once" }, Wiring(new ProbeConfig(), sink, source), new StringWriter(), stderr, CancellationToken.None);

        Assert.Equal(0, exit);
        Assert.Contains("host_value", Assert.Single(sink.Exports).Keys);
        Assert.True(source.Disposed);
        Assert.Matches(@"(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warn  key 'delay' is deprecated$", stderr.ToString());
        Assert.Matches(@"(?m)^\S+Z info  vmprobe \S+ collecting once: 1 source\(s\) \[host\]", stderr.ToString());
    }

    [Fact]
    public void ConfigErrorsArePrintedAsFileLineKeyMessageAndExit2()
    {
        var problems = new[]
        {
            new ConfigProblem("/etc/vmprobe.yaml", 7, "delay", "must be at least 100 (got 10)"),
            new ConfigProblem("/etc/vmprobe.yaml", 12, "events.hardware[2]", "unknown event 'cycels'"),
        };
        var stderr = new StringWriter();
        var exit = ProbeRunner.Run(
            new[] { "--config", "/etc/vmprobe.yaml", "--check" },
            Wiring(new ProbeConfig(), new SnapshotSink(), new KnownSource("host"), load: _ => throw new ConfigLoadFailedException(problems)),
            new StringWriter(), stderr, CancellationToken.None);

        Assert.Equal(2, exit);
        Assert.Equal(
            new[] { "/etc/vmprobe.yaml:7: delay: must be at least 100 (got 10)", "/etc/vmprobe.yaml:12: events.hardware[2]: unknown event 'cycels'" },
            stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void AFilesWarningsAreShownWithItsErrorsAndErrorsComeInLineOrder()
    {
        var file = Path.Combine(Path.GetTempPath(), $"vmprobe-warn-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, "url: 5\nbogus_key: 1\ndelay: -5\n");
        try
        {
            var stderr = new StringWriter();
            var exit = ProbeRunner.Run(new[] { "--config", file, "--check" }, DefaultWiring.Create(), new StringWriter(), stderr, CancellationToken.None);
            Assert.Equal(2, exit);
            var lines = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains(lines, l => l.Contains($"{file}:2: bogus_key: unknown key", StringComparison.Ordinal));
            var errors = lines.Where(l => l.StartsWith(file + ":", StringComparison.Ordinal)).Select(l => l[(file.Length + 1)..l.IndexOf(':', file.Length + 1)]).ToList();
            Assert.Equal(new[] { "1", "3" }, errors);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void CheckPrintsWhatWouldBeCollectedWithoutCollecting()
    {
        var config = new ProbeConfig
        {
            SourcePath = "/etc/vmprobe.yaml",
            Endpoint = "/tmp/x/vmprobe.prom",
            DelayMs = 2000,
            Naming = MetricNaming.Legacy,
            Events = new[] { new PerfEventSpec("task_clock", PerfEventKind.Software, 1, 1), new PerfEventSpec("sched_switch", PerfEventKind.Tracepoint, 2, 0, "sched:sched_switch") },
        };
        var sink = new SnapshotSink();
        var source = new KnownSource("perf");
        var stdout = new StringWriter();

        var exit = ProbeRunner.Run(new[] { "--config", "/etc/vmprobe.yaml", "--check" }, Wiring(config, sink, source), stdout, new StringWriter(), CancellationToken.None);

        var text = stdout.ToString();
        Assert.Equal(0, exit);
        Assert.Empty(sink.Exports);
        Assert.Empty(source.CollectTimes);
        Assert.Contains("endpoint:    /tmp/x/vmprobe.prom", text, StringComparison.Ordinal);
        Assert.Contains("delay:       2000 ms", text, StringComparison.Ordinal);
        Assert.Contains("naming:      legacy", text, StringComparison.Ordinal);
        Assert.Contains("targets:     discovery auto, url qemu:///system", text, StringComparison.Ordinal);
        // The registry's view of this config, not the wired parts: --check builds nothing.
        Assert.Contains("sources:     host, procfs, libvirt, perf", text, StringComparison.Ordinal);
        Assert.Contains("  perf: perf_event counters", text, StringComparison.Ordinal);
        Assert.Contains("events:      2", text, StringComparison.Ordinal);
        Assert.Contains("kvm stats:   vm, all statistics; stats fds: ", text, StringComparison.Ordinal);
        Assert.Contains("  sched_switch (tracepoint sched:sched_switch, type 2, config 0x0)", text, StringComparison.Ordinal);
        Assert.Contains("warning:     key 'delay' is deprecated", text, StringComparison.Ordinal);
        Assert.EndsWith("configuration OK" + Environment.NewLine, text, StringComparison.Ordinal);
    }

    [Fact]
    public void OnceExits1WhenTheFileCannotBeWritten()
    {
        var sink = new SnapshotSink { FailWith = new UnauthorizedAccessException("Access to the path '/var/lib/x.prom.tmp' is denied.") };
        var stderr = new StringWriter();

        var exit = ProbeRunner.Run(new[] { "--config", "c.yaml", "--once" }, Wiring(new ProbeConfig(), sink, new KnownSource("host")), new StringWriter(), stderr, CancellationToken.None);

        Assert.Equal(1, exit);
        Assert.Contains("could not write memory: UnauthorizedAccessException", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void AStopRequestEndsTheLoopAfterExportingTheCycleInProgressAndExits0()
    {
        using var stop = new CancellationTokenSource();
        var clock = new ManualProbeClock();
        var sink = new SnapshotSink();
        var source = new KnownSource("host", clock) { DuringCollect = call => { if (call == 1) stop.Cancel(); } };
        var stderr = new StringWriter();

        var exit = ProbeRunner.Run(new[] { "--config", "c.yaml", "--log-level", "warning" }, Wiring(new ProbeConfig { DelayMs = 1000 }, sink, source, clock), new StringWriter(), stderr, stop.Token);

        Assert.Equal(0, exit);
        Assert.Equal(2, sink.Exports.Count);
        Assert.Equal(new long[] { 0, 1000 }, source.CollectTimes);
        Assert.True(source.Disposed);
        Assert.DoesNotMatch(new Regex(" info  "), stderr.ToString()); // --log-level warning hides info lines
        Assert.Contains(" warn  key 'delay' is deprecated", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ASourceThatCannotBeCreatedIsARuntimeFailure()
    {
        var wiring = new RunnerWiring
        {
            LoadConfig = _ => new LoadedConfig(new ProbeConfig(), Array.Empty<string>()),
            StartProbe = (_, _) => throw new VmProbeException("libvirt.so.0 not found", "dlopen,libvirt.so.0", ProbeErrorKind.NotFound),
        };
        var stderr = new StringWriter();

        var exit = ProbeRunner.Run(new[] { "--config", "c.yaml", "--once" }, wiring, new StringWriter(), stderr, CancellationToken.None);

        Assert.Equal(1, exit);
        Assert.Contains("error vmprobe failed: libvirt.so.0 not found [dlopen,libvirt.so.0]", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void AHostCheckThatRunsOutOfFdsIsARuntimeFailureNotAConfigError()
    {
        var wiring = new RunnerWiring
        {
            LoadConfig = _ => new LoadedConfig(new ProbeConfig(), Array.Empty<string>()),
            StartProbe = (_, _) => throw new InvalidOperationException("--check must not start the probe"),
            CheckHost = _ => throw new VmProbeException("cannot check config file 'c.yaml' on this host: too many open files (EMFILE)", "config_check,EMFILE", ProbeErrorKind.ResourceUnavailable),
        };
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var exit = ProbeRunner.Run(new[] { "--config", "c.yaml", "--check" }, wiring, stdout, stderr, CancellationToken.None);

        Assert.Equal(1, exit);
        Assert.Contains("error vmprobe failed: cannot check config file 'c.yaml' on this host: too many open files (EMFILE) [config_check,EMFILE]", stderr.ToString(), StringComparison.Ordinal);
        Assert.Empty(stdout.ToString());
    }
}
