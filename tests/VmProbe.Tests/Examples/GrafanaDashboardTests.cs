using System.Text.Json;
using VmProbe.Tests.Prometheus;
using Xunit;

namespace VmProbe.Tests.Examples;

/// <summary>
/// The Grafana dashboard's structure, checked without Grafana: every query names families the engine declares (with
/// their labels), uses only the dashboard's variables, and the panels cover what issue 15 asks for. Whether the queries
/// return series is <see cref="DashboardEndToEndTests"/>' job.
/// </summary>
public sealed class GrafanaDashboardTests
{
    private static readonly string[] GrafanaBuiltins = { "__rate_interval", "__interval", "__range" };
    private static readonly string[] KvmStatisticPrefixes = { "domain_kvm_", "domain_vcpu_kvm_", "host_kvm_" };

    private readonly GrafanaDashboard _dashboard = GrafanaDashboard.Load();

    [Fact]
    public void PanelsHaveUniqueIds_TheDatasourceVariable_AndDoNotOverlap()
    {
        var panels = _dashboard.AllPanels();
        var ids = panels.Select(p => p.GetProperty("id").GetInt32()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        foreach (var panel in panels.Where(p => p.GetProperty("type").GetString() != "row"))
        {
            var title = panel.GetProperty("title").GetString();
            Assert.Equal("${datasource}", panel.GetProperty("datasource").GetProperty("uid").GetString());
            var targets = panel.GetProperty("targets").EnumerateArray().ToList();
            Assert.True(targets.Count > 0, $"panel '{title}' has no query");
            Assert.Equal(targets.Count, targets.Select(t => t.GetProperty("refId").GetString()).Distinct().Count());
            Assert.All(targets, t => Assert.False(string.IsNullOrWhiteSpace(t.GetProperty("expr").GetString()), $"panel '{title}': empty expr"));
        }

        // Grafana lays panels out on a 24-column grid: two panels sharing a cell would hide one of them.
        var boxes = panels.Select(p => (Id: p.GetProperty("id").GetInt32(), Pos: p.GetProperty("gridPos"))).Select(b => (b.Id,
            X: b.Pos.GetProperty("x").GetInt32(), Y: b.Pos.GetProperty("y").GetInt32(), W: b.Pos.GetProperty("w").GetInt32(), H: b.Pos.GetProperty("h").GetInt32())).ToList();
        Assert.All(boxes, b => Assert.True(b.X >= 0 && b.X + b.W <= 24, $"panel {b.Id} is outside the 24-column grid"));
        foreach (var a in boxes)
        {
            foreach (var b in boxes.Where(b => b.Id > a.Id))
            {
                var overlap = a.X < b.X + b.W && b.X < a.X + a.W && a.Y < b.Y + b.H && b.Y < a.Y + a.H;
                Assert.False(overlap, $"panels {a.Id} and {b.Id} overlap");
            }
        }
    }

    [Fact]
    public void QueriesUseOnlyTheDashboardsVariables()
    {
        var known = _dashboard.Variables().Select(v => v.Name).Concat(GrafanaBuiltins).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("prefix", known);
        var queries = _dashboard.Queries().Select(q => (q.Name, q.Expr))
            .Concat(_dashboard.Variables().Where(v => v.Query is not null && v.Type == "query").Select(v => ($"variable {v.Name}", v.Query!)));
        foreach (var (name, expr) in queries)
        {
            var unknown = GrafanaDashboard.VariablesIn(expr).Except(known).ToList();
            Assert.True(unknown.Count == 0, $"{name} uses unknown variables {string.Join(", ", unknown)}: {expr}");
            Assert.DoesNotContain("vmprobe_", expr, StringComparison.Ordinal); // the prefix is a variable: a probe may set its own
        }
    }

    [Fact]
    public void EveryFamilyAQueryNamesIsDeclared_WithItsLabels()
    {
        var declared = MetricDescTests.Declared().GroupBy(d => d.Desc.Name)
            .ToDictionary(g => g.Key, g => (g.First().Desc.Type, Labels: g.SelectMany(d => d.Desc.LabelNames).ToHashSet()), StringComparer.Ordinal);
        var values = Values("vmprobe");
        var queries = _dashboard.Queries().Select(q => (q.Name, q.Expr))
            .Concat(_dashboard.Variables().Where(v => v.Type == "query").Select(v => ($"variable {v.Name}", v.Query!)));
        foreach (var (name, expr) in queries)
        {
            foreach (var selector in SeriesRequirements.Of(GrafanaDashboard.Substitute(expr, values)).Where(s => s.Name.StartsWith("vmprobe_", StringComparison.Ordinal)))
            {
                var family = selector.Name["vmprobe_".Length..];
                HashSet<string> labels;
                if (declared.TryGetValue(family, out var desc))
                {
                    labels = desc.Labels;
                }
                else if (HistogramSeries(family) is { } histogram && declared.TryGetValue(histogram, out var hist) && hist.Type == MetricType.Histogram)
                {
                    labels = hist.Labels.Append("le").ToHashSet();
                }
                else
                {
                    // KVM's own statistics take their names from the kernel (README, kvmstats); only their prefix is fixed.
                    Assert.True(KvmStatisticPrefixes.Any(p => family.StartsWith(p, StringComparison.Ordinal)), $"{name}: {family} is no family the engine declares");
                    labels = new HashSet<string> { "domain", "uuid", "vcpu" };
                }

                var foreign = selector.Matchers.Select(m => m.Label).Where(l => l is not ("instance" or "job") && !labels.Contains(l)).ToList();
                Assert.True(foreign.Count == 0, $"{name}: {family} has no label {string.Join(", ", foreign)}");
            }
        }
    }

    [Fact]
    public void ThePanelsCoverHostVmsDrillDownKvmAndProbeHealth()
    {
        var rows = _dashboard.AllPanels().Where(p => p.GetProperty("type").GetString() == "row").Select(p => p.GetProperty("title").GetString()).ToList();
        Assert.Equal(new[] { "Host overview", "VMs", "VM: $domain", "KVM exits: $domain", "Probe health" }, rows);
        Assert.Contains(_dashboard.AllPanels(), p => p.GetProperty("type").GetString() == "table" && p.GetProperty("title").GetString() == "VMs");

        var exprs = _dashboard.Queries().Select(q => q.Expr).ToList();
        foreach (var needed in new[]
                 {
                     "_host_cpu_seconds_total", "_domain_vcpu_sched_wait_seconds_total", "_domain_sched_run_seconds_total",
                     "_domain_perf_events_total", "_domain_kvm_exits_by_reason_total", "_domain_kvm_exit_handling_seconds_bucket",
                     "_probe_errors_total", "_probe_event_supported", "node_textfile_mtime_seconds", "_domain_memory_rss_bytes",
                     "_domain_block_read_bytes_total", "_domain_network_receive_bytes_total",
                 })
        {
            Assert.True(exprs.Any(e => e.Contains(needed, StringComparison.Ordinal)), $"no panel queries {needed}");
        }
    }

    /// <summary>Values for every variable, as the end-to-end test and Grafana would give them.</summary>
    internal static Dictionary<string, string> Values(string prefix, string instance = ".*", string domain = ".*") => new(StringComparer.Ordinal)
    {
        ["prefix"] = prefix,
        ["instance"] = instance,
        ["domain"] = domain,
        ["datasource"] = "prometheus",
        ["__rate_interval"] = "1m",
        ["__interval"] = "15s",
        ["__range"] = "1h",
    };

    private static string? HistogramSeries(string family)
    {
        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (family.EndsWith(suffix, StringComparison.Ordinal))
            {
                return family[..^suffix.Length];
            }
        }

        return null;
    }
}
