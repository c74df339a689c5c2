using System.Globalization;
using System.Text;
using VmProbe.Tests.Infrastructure;
using VmProbe.Tests.Views;
using VmProbe.Views;
using Xunit;

namespace VmProbe.Tests.Examples;

/// <summary>
/// Issue 15: steal means one thing. The counters <c>vmprobe top</c> turns into STEAL% (and the CSV's steal_ratio) are fed
/// as series to the real promtool, and the rules' and the dashboard's steal expressions must give top's numbers, so a
/// change of definition on one side fails here instead of drifting.
/// </summary>
public sealed class StealParityTests : IDisposable
{
    private const int Step = 60; // seconds between the two cycles, and promtool's series interval

    private readonly string _dir = Directory.CreateTempSubdirectory("vmprobe-steal-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// "web": vCPU 0 ran 20 s and waited 30 s of the minute, vCPU 1 ran 50 s and waited 6 s; "db": its one vCPU ran
    /// 10 s and waited 12 s. wait/wall, wait/(run+wait) and a mean over vCPUs all differ on these.
    /// </summary>
    private static (MetricSet First, MetricSet Second) Cycles()
    {
        var first = ViewFixtures.At(1_800_000_000);
        var second = ViewFixtures.At(1_800_000_000 + Step);
        ViewFixtures.Vm(first, "web", run: 100, wait: 10, vcpuRun: 40, vcpuWait: 5);
        ViewFixtures.Vm(second, "web", run: 190, wait: 50, vcpuRun: 60, vcpuWait: 35);
        AddVcpu(first, "web", "1", run: 30, wait: 2);
        AddVcpu(second, "web", "1", run: 80, wait: 8);
        ViewFixtures.Vm(first, "db", run: 10, wait: 1, vcpuRun: 5, vcpuWait: 1);
        ViewFixtures.Vm(second, "db", run: 25, wait: 14, vcpuRun: 15, vcpuWait: 13);
        return (first, second);
    }

    private static void AddVcpu(MetricSet set, string domain, string vcpu, double run, double wait)
    {
        set.Family(VmProbe.Procfs.DomainProcfsFamilies.VcpuSchedRunSeconds).Add(run, domain, ViewFixtures.Uuid, vcpu);
        set.Family(VmProbe.Procfs.DomainProcfsFamilies.VcpuSchedWaitSeconds).Add(wait, domain, ViewFixtures.Uuid, vcpu);
    }

    private static ViewFrame TopFrame()
    {
        var (first, second) = Cycles();
        return ViewFixtures.SecondFrame(first, second);
    }

    [Fact]
    public void TopsStealIsEachVcpusWaitOverWallTimeAndTheVmsIsItsWorstVcpu()
    {
        var web = TopFrame().Vms.Single(v => v.Name == "web");
        Assert.Equal(new[] { 0.5, 0.1 }, web.Vcpus.Select(v => Math.Round(v.StealRatio!.Value, 9)));
        Assert.Equal(0.5, web.StealRatio!.Value, 9);
        var csv = ViewColumns.Record.Single(c => c.Id == "steal_ratio").Record(web);
        Assert.Equal("0.5", csv); // the CSV and log lines carry the same number
    }

    [SkippableFact]
    public void TheRulesAndTheDashboardGiveTopsStealOnTheSameCounters()
    {
        Skip.IfNot(Promtool.IsAvailable, Promtool.UnavailableReason);
        var frame = TopFrame();
        var tests = new StringBuilder("rule_files:\n  - vmprobe.rules.yml\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n");
        var (first, second) = Cycles();
        foreach (var family in second.Families.Where(f => f.Name.StartsWith("domain_", StringComparison.Ordinal)))
        {
            Assert.True(first.TryGet(family.Name, out var before));
            foreach (var sample in family.Samples)
            {
                var start = before.Samples.Single(s => s.LabelValues.SequenceEqual(sample.LabelValues)).Value;
                var labels = string.Concat(family.LabelNames.Zip(sample.LabelValues, (n, v) => $",{n}=\"{v}\""));
                tests.Append($"      - series: 'vmprobe_{family.Name}{{instance=\"h1\",job=\"node\"{labels}}}'\n")
                    .Append($"        values: '{Number(start)}+{Number(sample.Value - start)}x20'\n");
            }
        }

        tests.Append("    promql_expr_test:\n");
        string VcpuLabels(VmViewRow vm, VcpuViewRow v) => $"instance=\"h1\",job=\"node\",domain=\"{vm.Name}\",uuid=\"{vm.Uuid}\",vcpu=\"{v.Vcpu}\"";
        Expect(tests, "vmprobe:domain_vcpu_steal:ratio_rate1m", frame.Vms.SelectMany(vm => vm.Vcpus.Select(v =>
            ($"vmprobe:domain_vcpu_steal:ratio_rate1m{{{VcpuLabels(vm, v)}}}", v.StealRatio!.Value))));
        Expect(tests, "vmprobe:domain_steal:max_ratio_rate1m", frame.Vms.Select(vm =>
            ($"vmprobe:domain_steal:max_ratio_rate1m{{instance=\"h1\",job=\"node\",domain=\"{vm.Name}\",uuid=\"{vm.Uuid}\"}}", vm.StealRatio!.Value)));

        // The dashboard's steal queries, as Grafana sends them: each VM's worst vCPU is top's STEAL%, and a query that
        // keeps the vcpu label gives top's drill-down per vCPU.
        var values = new Dictionary<string, string> { ["prefix"] = "vmprobe", ["instance"] = ".*", ["domain"] = ".*", ["__rate_interval"] = "1m" };
        var queries = GrafanaDashboard.Load().Queries().Where(q => q.Expr.Contains("_vcpu_sched_wait_seconds_total", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(queries);
        foreach (var query in queries)
        {
            var expr = GrafanaDashboard.Substitute(query.Expr, values);
            Expect(tests, $"max by (domain) ({expr})", frame.Vms.Select(vm => ($"{{domain=\"{vm.Name}\"}}", vm.StealRatio!.Value)));
            if (!expr.Contains(" by (", StringComparison.Ordinal) && !expr.Contains("without", StringComparison.Ordinal))
            {
                Expect(tests, $"max by (domain, vcpu) ({expr})", frame.Vms.SelectMany(vm => vm.Vcpus.Select(v =>
                    ($"{{domain=\"{vm.Name}\",vcpu=\"{v.Vcpu}\"}}", v.StealRatio!.Value))));
            }
        }

        File.Copy(RepoPaths.File(PrometheusRulesFile.RulesPath), Path.Combine(_dir, "vmprobe.rules.yml"));
        File.WriteAllText(Path.Combine(_dir, "steal.test.yml"), tests.ToString());
        var (exit, output) = PrometheusRulesTests.TestRules(_dir, "steal.test.yml");
        Assert.True(exit == 0, output + "\n" + tests);
    }

    /// <summary>Appends a promql_expr_test evaluated after ten minutes of the series (rate over the last minute).</summary>
    private static void Expect(StringBuilder tests, string expr, IEnumerable<(string Labels, double Value)> samples)
    {
        tests.Append($"      - expr: '{expr.Replace("'", "''", StringComparison.Ordinal)}'\n        eval_time: 10m\n        exp_samples:\n");
        foreach (var (labels, value) in samples)
        {
            tests.Append($"          - labels: '{labels}'\n            value: {Number(value)}\n");
        }
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
