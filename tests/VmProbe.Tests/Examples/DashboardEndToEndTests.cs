using System.Diagnostics;
using System.Text;
using VmProbe.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace VmProbe.Tests.Examples;

/// <summary>
/// The examples against the real chain: the runner (<c>dotnet vmprobe.dll --config</c>) probing two real TCG domains
/// (one spinning, with a NIC; one idle) every second into a node_exporter's textfile directory, Debian's Prometheus
/// scraping that node_exporter every second with vmprobe.rules.yml loaded. Every dashboard panel's query (variables
/// substituted as Grafana does), every variable, every recording rule and every selector of an alert must return
/// series through the HTTP API. A query that needs a family this host cannot produce (KVM, a hardware PMU,
/// /proc/schedstat: <see cref="SeriesRequirements.HostDependence"/>) is skipped with its reason printed, and only when
/// that family is absent from the file this run produced.
/// </summary>
[Collection(LibvirtdCollection.Name)]
public sealed class DashboardEndToEndTests : IDisposable
{
    private static readonly TimeSpan SeriesDeadline = TimeSpan.FromSeconds(120);

    private readonly LibvirtdHost _host;
    private readonly ITestOutputHelper _output;
    private readonly string _dir = Directory.CreateTempSubdirectory("vmprobe-e2e-grafana-").FullName;

    public DashboardEndToEndTests(LibvirtdHost host, ITestOutputHelper output)
    {
        _host = host;
        _output = output;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public void EveryPanelQueryAndRule_ReturnsSeries_FromARealProbeThroughNodeExporterAndPrometheus()
    {
        Skip.IfNot(_host.Available, _host.SkipReason);
        Skip.IfNot(NodeExporterHost.IsAvailable, NodeExporterHost.UnavailableReason);
        Skip.IfNot(PrometheusServerHost.IsAvailable, PrometheusServerHost.UnavailableReason);
        Skip.IfNot(File.Exists(RepoPaths.VmprobeDll), $"the runner is not built ({RepoPaths.VmprobeDll})");

        using var spinning = _host.StartDomain(LibvirtdHost.UniqueName("graf-spin"), spinning: true, nic: true);
        using var idle = _host.StartDomain(LibvirtdHost.UniqueName("graf-idle"));
        using var exporter = NodeExporterHost.Start();
        var endpoint = Path.Combine(exporter.TextfileDirectory, "vmprobe.prom");
        using var runner = Runner.Start(WriteConfig(endpoint));
        var written = runner.WaitForFile(endpoint, spinning.Name, idle.Name);

        var instance = $"127.0.0.1:{exporter.Port}";
        using var prometheus = PrometheusServerHost.Start(new[] { instance }, new[] { RepoPaths.File(PrometheusRulesFile.RulesPath) }, TimeSpan.FromSeconds(1));
        var values = GrafanaDashboardTests.Values("vmprobe", instance, $"({spinning.Name}|{idle.Name})");
        var recorded = PrometheusRulesFile.RecordingRules();

        // What must return series: panel queries, recording rules (their expressions and the series they record) and
        // each selector of an alert on its own (an alert's condition is false on a healthy host, its inputs are not).
        var checks = new List<(string Name, string Expr)>();
        checks.AddRange(GrafanaDashboard.Load().Queries().Select(q => (q.Name, GrafanaDashboard.Substitute(q.Expr, values))));
        foreach (var rule in PrometheusRulesFile.Rules())
        {
            if (rule.IsAlert)
            {
                checks.AddRange(SeriesRequirements.Of(rule.Expr, recorded).Select(s => ($"alert {rule.Name} input {s}", s.ToPromQl())));
            }
            else
            {
                checks.Add(($"recording rule {rule.Name}", rule.Expr));
                checks.Add(($"series recorded by {rule.Name}", rule.Name));
            }
        }

        var failures = new List<string>();
        var pending = new List<(string Name, string Expr)>();
        var skipped = 0;
        foreach (var (name, expr) in checks)
        {
            var missing = SeriesRequirements.Of(expr, recorded)
                .Where(s => s.Name.StartsWith("vmprobe_", StringComparison.Ordinal) && !SeriesRequirements.InFile(s, written)).ToList();
            var unexplained = missing.Where(s => SeriesRequirements.HostDependence(s, "vmprobe") is null).ToList();
            if (unexplained.Count > 0)
            {
                failures.Add($"{name}: needs {string.Join(", ", unexplained)}, which the probe did not write: {expr}");
            }
            else if (missing.Count > 0)
            {
                skipped++;
                _output.WriteLine($"skipped {name}: needs {string.Join(", ", missing)}, absent from the probe's file: {SeriesRequirements.HostDependence(missing[0], "vmprobe")}");
            }
            else
            {
                pending.Add((name, expr));
            }
        }

        var evaluated = pending.Count;
        var deadline = Stopwatch.StartNew();
        while (pending.Count > 0 && deadline.Elapsed < SeriesDeadline)
        {
            pending.RemoveAll(c => prometheus.Query(c.Expr).Count > 0);
            if (pending.Count > 0)
            {
                Thread.Sleep(1000);
            }
        }

        failures.AddRange(pending.Select(c => $"{c.Name} returned no series within {SeriesDeadline.TotalSeconds} s: {c.Expr}"));
        _output.WriteLine($"{checks.Count} queries: {evaluated} evaluated, {skipped} skipped for this host, {failures.Count} failed");
        Assert.True(evaluated >= 40, $"only {evaluated} queries could be evaluated here");

        CheckVariables(prometheus, values, instance, new[] { spinning.Name, idle.Name }, failures);
        CheckRules(prometheus, written, failures);
        Assert.True(failures.Count == 0, string.Join("\n", failures) + "\nrunner log:\n" + runner.Log);
    }

    /// <summary>The host and VM pickers (label_values queries) list this node_exporter and both test domains.</summary>
    private static void CheckVariables(PrometheusServerHost prometheus, Dictionary<string, string> values, string instance, string[] domains, List<string> failures)
    {
        foreach (var variable in GrafanaDashboard.Load().Variables().Where(v => v.Type == "query"))
        {
            var (match, label) = GrafanaDashboard.ParseLabelValues(GrafanaDashboard.Substitute(variable.Query!, values));
            var listed = prometheus.LabelValues(label, match);
            var expected = variable.Name == "domain" ? domains : new[] { instance };
            failures.AddRange(expected.Except(listed).Select(e => $"variable {variable.Name} ({variable.Query}) does not list {e}: [{string.Join(", ", listed)}]"));
        }
    }

    /// <summary>Every rule evaluates without error; the unsupported-event alert is active for each refused event, the stale-file alert is not.</summary>
    private static void CheckRules(PrometheusServerHost prometheus, IReadOnlyList<ExposedSeries> written, List<string> failures)
    {
        var refused = written.Where(s => s.Name == "vmprobe_probe_event_supported" && s.Value == 0).Select(s => s.Labels["event"]).ToHashSet();
        IReadOnlyList<LoadedRule> rules = Array.Empty<LoadedRule>();
        var deadline = Stopwatch.StartNew();
        bool Settled(IReadOnlyList<LoadedRule> r) =>
            r.Count == PrometheusRulesFile.Rules().Count && r.All(x => x.Health != "unknown")
            && refused.All(e => r.Single(x => x.Name == "VmProbeEventUnsupported").Alerts.Any(a => a.Labels.TryGetValue("event", out var v) && v == e));
        while (!Settled(rules = prometheus.Rules()) && deadline.Elapsed < SeriesDeadline)
        {
            Thread.Sleep(1000);
        }

        failures.AddRange(rules.Where(r => r.Health != "ok").Select(r => $"rule {r.Name}: health {r.Health}: {r.LastError}"));
        var unsupported = rules.Single(r => r.Name == "VmProbeEventUnsupported");
        failures.AddRange(refused.Where(e => !unsupported.Alerts.Any(a => a.Labels.GetValueOrDefault("event") == e && a.State is "pending" or "firing"))
            .Select(e => $"VmProbeEventUnsupported is not active for event {e}, which the file reports unsupported"));
        failures.AddRange(rules.Single(r => r.Name == "VmProbeTextfileStale").Alerts.Select(a => $"VmProbeTextfileStale is {a.State} for a file written every second"));
    }

    private string WriteConfig(string endpoint)
    {
        // Hardware events are in on purpose: counted where a PMU exists, reported unsupported (an alert input) where not.
        var path = Path.Combine(_dir, "vmprobe.yaml");
        File.WriteAllText(path, $"""
            prefix: vmprobe
            delay: 1000
            endpoint: {endpoint}
            url: {LibvirtdHost.Uri}
            perfhardware: [instructions, cpu-cycles]
            perfsoftware: [task-clock, context-switches, page-faults]
            perftracepoint: [sched:sched_switch]
            kvmstats: vm
            kvmexits: latency

            """);
        return path;
    }

    /// <summary>The runner as a process, killed on Dispose; its output is kept for failure messages.</summary>
    private sealed class Runner : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _log = new();

        private Runner(Process process) => _process = process;

        public string Log
        {
            get
            {
                lock (_log)
                {
                    return _log.ToString();
                }
            }
        }

        public static Runner Start(string config)
        {
            var psi = new ProcessStartInfo(Requirements.FindCommand("dotnet") ?? "dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            psi.ArgumentList.Add(RepoPaths.VmprobeDll);
            psi.ArgumentList.Add("--config");
            psi.ArgumentList.Add(config);
            var runner = new Runner(new Process { StartInfo = psi });
            runner._process.OutputDataReceived += (_, e) => runner.Append(e.Data);
            runner._process.ErrorDataReceived += (_, e) => runner.Append(e.Data);
            runner._process.Start();
            runner._process.BeginOutputReadLine();
            runner._process.BeginErrorReadLine();
            return runner;
        }

        /// <summary>Waits (at most 120 s) for a file with both domains' series and the spinning domain's NIC, and returns it parsed.</summary>
        public IReadOnlyList<ExposedSeries> WaitForFile(string endpoint, string spinning, string idle)
        {
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < SeriesDeadline)
            {
                if (_process.HasExited)
                {
                    throw new InvalidOperationException($"the runner exited with {_process.ExitCode}: {Log}");
                }

                if (File.Exists(endpoint))
                {
                    var series = ExpositionText.Parse(File.ReadAllText(endpoint));
                    bool Has(string family, string domain) => series.Any(s => s.Name == family && s.Labels.GetValueOrDefault("domain") == domain);
                    if (Has("vmprobe_domain_vcpu_sched_wait_seconds_total", spinning) && Has("vmprobe_domain_vcpu_sched_wait_seconds_total", idle)
                        && Has("vmprobe_domain_network_receive_bytes_total", spinning) && Has("vmprobe_domain_perf_events_total", idle))
                    {
                        return series;
                    }
                }

                Thread.Sleep(500);
            }

            throw new TimeoutException($"no file with both test domains at {endpoint} within {SeriesDeadline.TotalSeconds} s: {Log}");
        }

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                }

                _process.WaitForExit();
            }
            finally
            {
                _process.Dispose();
            }
        }

        private void Append(string? line)
        {
            if (line is not null)
            {
                lock (_log)
                {
                    _log.AppendLine(line);
                }
            }
        }
    }
}
