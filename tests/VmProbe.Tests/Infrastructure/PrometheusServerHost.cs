using System.Net;
using System.Text;
using System.Text.Json;

namespace VmProbe.Tests.Infrastructure;

/// <summary>
/// A real Prometheus server (Debian package <c>prometheus</c>) on 127.0.0.1 and a free port, with its own temp
/// config and storage, scraping the given targets every <c>interval</c> and loading the given rule files. Queries go
/// through the HTTP API (<c>/api/v1/query</c>, <c>/api/v1/rules</c>, <c>/api/v1/alerts</c>). Dispose kills the process
/// and removes the temp directory.
/// </summary>
public sealed class PrometheusServerHost : LocalServerProcess
{
    private readonly string _directory;

    private PrometheusServerHost(int port, string directory)
        : base(port)
    {
        _directory = directory;
        BaseUri = new Uri($"http://127.0.0.1:{port}/");
    }

    public static string? ExecutablePath { get; } = Requirements.FindCommand("prometheus");

    public static bool IsAvailable => ExecutablePath is not null;

    public const string UnavailableReason = "the Prometheus server is not installed (Debian package 'prometheus')";

    public Uri BaseUri { get; }

    protected override string ServerName => "prometheus";

    /// <summary>Starts Prometheus scraping <paramref name="targets"/> (host:port, job <paramref name="job"/>) and waits until it is ready.</summary>
    /// <exception cref="InvalidOperationException">Prometheus is missing, exited or was not ready within 30 s; the message has its log.</exception>
    public static PrometheusServerHost Start(IEnumerable<string> targets, IEnumerable<string> ruleFiles, TimeSpan interval, string job = "node")
    {
        var executable = ExecutablePath ?? throw new InvalidOperationException(UnavailableReason);
        var directory = Directory.CreateTempSubdirectory("vmprobe-prometheus-").FullName;
        var seconds = $"{Math.Max(1, (int)interval.TotalSeconds)}s";
        var config = new StringBuilder()
            .AppendLine("global:")
            .AppendLine($"  scrape_interval: {seconds}")
            .AppendLine($"  evaluation_interval: {seconds}")
            .AppendLine("rule_files:");
        foreach (var file in ruleFiles)
        {
            config.AppendLine($"  - {JsonSerializer.Serialize(Path.GetFullPath(file))}");
        }

        config.AppendLine("scrape_configs:")
            .AppendLine($"  - job_name: {JsonSerializer.Serialize(job)}")
            .AppendLine("    static_configs:")
            .AppendLine($"      - targets: [{string.Join(", ", targets.Select(t => JsonSerializer.Serialize(t)))}]");
        var configPath = Path.Combine(directory, "prometheus.yml");
        File.WriteAllText(configPath, config.ToString());
        return StartOnFreePort(
            port =>
            {
                var host = new PrometheusServerHost(port, directory);
                host.Launch(executable, new[]
                {
                    $"--config.file={configPath}", $"--storage.tsdb.path={Path.Combine(directory, "data")}",
                    $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
                }, directory);
                return host;
            },
            "-/ready",
            TimeSpan.FromSeconds(30));
    }

    /// <summary>An instant query at now: the result's series (metric labels and value), empty when none.</summary>
    /// <exception cref="InvalidOperationException">Prometheus answered with an error (bad PromQL): the message has it.</exception>
    public IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)> Query(string promql)
    {
        using var document = Get("api/v1/query?query=" + Uri.EscapeDataString(promql));
        var data = document.RootElement.GetProperty("data");
        var type = data.GetProperty("resultType").GetString();
        var result = data.GetProperty("result");
        if (type == "scalar")
        {
            return new[] { ((IReadOnlyDictionary<string, string>)new Dictionary<string, string>(), ParseValue(result)) };
        }

        return result.EnumerateArray()
            .Select(e => ((IReadOnlyDictionary<string, string>)e.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty),
                ParseValue(e.GetProperty("value"))))
            .ToList();
    }

    /// <summary>The values of a label over the series <paramref name="match"/> selects (Grafana's label_values).</summary>
    public IReadOnlyList<string> LabelValues(string label, string match)
    {
        using var document = Get($"api/v1/label/{Uri.EscapeDataString(label)}/values?match[]={Uri.EscapeDataString(match)}");
        return document.RootElement.GetProperty("data").EnumerateArray().Select(e => e.GetString() ?? string.Empty).ToList();
    }

    /// <summary>Every loaded rule: group, name (record or alert), health, last error and, for alerts, the active alerts' labels and state.</summary>
    public IReadOnlyList<LoadedRule> Rules()
    {
        using var document = Get("api/v1/rules");
        var rules = new List<LoadedRule>();
        foreach (var group in document.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray())
        {
            foreach (var rule in group.GetProperty("rules").EnumerateArray())
            {
                var alerts = rule.TryGetProperty("alerts", out var active)
                    ? active.EnumerateArray().Select(a => (
                        (IReadOnlyDictionary<string, string>)a.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty),
                        a.GetProperty("state").GetString() ?? string.Empty)).ToList()
                    : new();
                rules.Add(new LoadedRule(group.GetProperty("name").GetString()!, rule.GetProperty("name").GetString()!, rule.GetProperty("type").GetString()!,
                    rule.GetProperty("health").GetString()!, rule.TryGetProperty("lastError", out var error) ? error.GetString() : null,
                    rule.TryGetProperty("lastEvaluation", out var last) ? last.GetString() : null, alerts));
            }
        }

        return rules;
    }

    private static double ParseValue(JsonElement pair) =>
        double.Parse(pair[1].GetString()!, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);

    private JsonDocument Get(string relative)
    {
        using var response = Http.GetAsync(new Uri(BaseUri, relative)).GetAwaiter().GetResult();
        var body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"GET {relative} answered {(int)response.StatusCode}: {body}");
        }

        return JsonDocument.Parse(body);
    }

    protected override void Cleanup() => DeleteDirectory(_directory);
}

/// <summary>One rule as <c>/api/v1/rules</c> reports it.</summary>
public sealed record LoadedRule(string Group, string Name, string Type, string Health, string? LastError, string? LastEvaluation,
    IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, string State)> Alerts);
