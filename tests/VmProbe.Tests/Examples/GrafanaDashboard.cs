using System.Text.Json;
using System.Text.RegularExpressions;
using VmProbe.Tests.Infrastructure;

namespace VmProbe.Tests.Examples;

/// <summary>One query of a dashboard panel: the panel's id and title, the target's refId and its PromQL as written.</summary>
public sealed record PanelQuery(int PanelId, string PanelTitle, string RefId, string Expr)
{
    public string Name => $"panel {PanelId} '{PanelTitle}' query {RefId}";
}

/// <summary>A templating variable of the dashboard: name, type and, for query variables, the label_values query.</summary>
public sealed record DashboardVariable(string Name, string Type, string? Query);

/// <summary>
/// examples/grafana/vmprobe-dashboard.json read as Grafana reads it: panels (also those nested in collapsed rows), their
/// Prometheus targets and the templating variables; <see cref="Substitute"/> replaces variables as Grafana does before
/// a query goes to Prometheus.
/// </summary>
public sealed class GrafanaDashboard
{
    public const string RelativePath = "examples/grafana/vmprobe-dashboard.json";

    // Grafana's three spellings of a variable: $name, ${name} (also ${name:format}) and the deprecated [[name]].
    private static readonly Regex VariableReference = new(@"\$\{(?<n>\w+)(?::\w+)?\}|\[\[(?<n>\w+)\]\]|\$(?<n>\w+)", RegexOptions.CultureInvariant);

    private GrafanaDashboard(JsonDocument document) => Document = document;

    public JsonDocument Document { get; }

    public static GrafanaDashboard Load() => new(JsonDocument.Parse(File.ReadAllText(RepoPaths.File(RelativePath))));

    /// <summary>Every panel object, rows included, top level first and then the panels inside rows.</summary>
    public IReadOnlyList<JsonElement> AllPanels()
    {
        var result = new List<JsonElement>();
        foreach (var panel in Document.RootElement.GetProperty("panels").EnumerateArray())
        {
            result.Add(panel);
            if (panel.TryGetProperty("panels", out var nested))
            {
                result.AddRange(nested.EnumerateArray());
            }
        }

        return result;
    }

    /// <summary>Every Prometheus query of every panel.</summary>
    public IReadOnlyList<PanelQuery> Queries() =>
        AllPanels()
            .Where(p => p.TryGetProperty("targets", out _))
            .SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => new PanelQuery(
                p.GetProperty("id").GetInt32(), p.GetProperty("title").GetString() ?? string.Empty,
                t.GetProperty("refId").GetString() ?? string.Empty, t.GetProperty("expr").GetString() ?? string.Empty)))
            .ToList();

    public IReadOnlyList<DashboardVariable> Variables() =>
        Document.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray()
            .Select(v => new DashboardVariable(v.GetProperty("name").GetString()!, v.GetProperty("type").GetString()!,
                v.TryGetProperty("query", out var q) ? q.ValueKind == JsonValueKind.Object ? q.GetProperty("query").GetString() : q.GetString() : null))
            .ToList();

    /// <summary>The variables an expression uses, by name (Grafana's built-ins such as <c>__rate_interval</c> included).</summary>
    public static IReadOnlySet<string> VariablesIn(string expr) =>
        VariableReference.Matches(expr).Select(m => m.Groups["n"].Value).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// Replaces every variable reference with its value, as Grafana does before sending the query.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The expression uses a variable <paramref name="values"/> does not give: names it.</exception>
    public static string Substitute(string expr, IReadOnlyDictionary<string, string> values) =>
        VariableReference.Replace(expr, m => values.TryGetValue(m.Groups["n"].Value, out var value)
            ? value
            : throw new KeyNotFoundException($"variable '{m.Groups["n"].Value}' of '{expr}' has no value"));

    /// <summary>The metric name and label of a <c>label_values(metric{...}, label)</c> variable query.</summary>
    public static (string Match, string Label) ParseLabelValues(string query)
    {
        var match = Regex.Match(query, @"^\s*label_values\(\s*(?<m>.+?)\s*,\s*(?<l>\w+)\s*\)\s*$", RegexOptions.CultureInvariant);
        if (!match.Success)
        {
            throw new FormatException($"not a label_values(metric, label) query: '{query}'");
        }

        return (match.Groups["m"].Value, match.Groups["l"].Value);
    }
}
