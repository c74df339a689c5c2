using VmProbe.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace VmProbe.Tests.Examples;

/// <summary>One rule of examples/prometheus/vmprobe.rules.yml: a recording rule (<c>record</c>) or an alert.</summary>
public sealed record ExampleRule(string Group, string Name, bool IsAlert, string Expr);

/// <summary>The example rules and their promtool unit tests, read with YamlDotNet (the test's own reading, not promtool's).</summary>
public static class PrometheusRulesFile
{
    public const string RulesPath = "examples/prometheus/vmprobe.rules.yml";

    public const string TestsPath = "examples/prometheus/vmprobe.rules.test.yml";

    public static IReadOnlyList<ExampleRule> Rules()
    {
        var rules = new List<ExampleRule>();
        foreach (var group in Sequence(Load(RulesPath), "groups"))
        {
            var groupName = Scalar(group, "name");
            foreach (var rule in Sequence(group, "rules"))
            {
                var alert = TryScalar(rule, "alert");
                rules.Add(new ExampleRule(groupName, alert ?? Scalar(rule, "record"), alert is not null, Scalar(rule, "expr")));
            }
        }

        return rules;
    }

    /// <summary>Recorded name to expression, for <see cref="SeriesRequirements.Of"/>.</summary>
    public static IReadOnlyDictionary<string, string> RecordingRules() =>
        Rules().Where(r => !r.IsAlert).ToDictionary(r => r.Name, r => r.Expr, StringComparer.Ordinal);

    /// <summary>
    /// For each alert name, the number of alert_rule_test cases of the unit-test file expecting it to fire (non-empty
    /// exp_alerts) and expecting it not to (empty exp_alerts).
    /// </summary>
    public static IReadOnlyDictionary<string, (int Firing, int Quiet)> AlertCases()
    {
        var cases = new Dictionary<string, (int Firing, int Quiet)>(StringComparer.Ordinal);
        foreach (var test in Sequence(Load(TestsPath), "tests"))
        {
            foreach (var check in OptionalSequence(test, "alert_rule_test"))
            {
                var name = Scalar(check, "alertname");
                var expected = OptionalSequence(check, "exp_alerts").Count;
                cases.TryGetValue(name, out var count);
                cases[name] = expected > 0 ? (count.Firing + 1, count.Quiet) : (count.Firing, count.Quiet + 1);
            }
        }

        return cases;
    }

    /// <summary>The expressions the unit-test file checks with promql_expr_test.</summary>
    public static IReadOnlySet<string> ExpressionTests() =>
        Sequence(Load(TestsPath), "tests").SelectMany(t => OptionalSequence(t, "promql_expr_test")).Select(e => Scalar(e, "expr").Trim()).ToHashSet(StringComparer.Ordinal);

    private static YamlMappingNode Load(string relative)
    {
        var stream = new YamlStream();
        using var reader = new StringReader(File.ReadAllText(RepoPaths.File(relative)));
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static IReadOnlyList<YamlMappingNode> Sequence(YamlNode node, string key) =>
        ((YamlSequenceNode)((YamlMappingNode)node).Children[new YamlScalarNode(key)]).Children.Cast<YamlMappingNode>().ToList();

    private static IReadOnlyList<YamlMappingNode> OptionalSequence(YamlNode node, string key) =>
        ((YamlMappingNode)node).Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlSequenceNode sequence
            ? sequence.Children.Cast<YamlMappingNode>().ToList()
            : Array.Empty<YamlMappingNode>();

    private static string Scalar(YamlNode node, string key) =>
        TryScalar(node, key) ?? throw new FormatException($"a rule or test without '{key}'");

    private static string? TryScalar(YamlNode node, string key) =>
        ((YamlMappingNode)node).Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlScalarNode)value).Value : null;
}
