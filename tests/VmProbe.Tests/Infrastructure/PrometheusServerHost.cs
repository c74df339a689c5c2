using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace VmProbe.Tests.Infrastructure;

/// <summary>
/// A real Prometheus server (Debian package <c>prometheus</c>) on 127.0.0.1 and a free port, with its own temp
/// config and storage, scraping the given targets every <c>interval</c> and loading the given rule files. Queries go
/// through the HTTP API (<c>/api/v1/query</c>, <c>/api/v1/rules</c>, <c>/api/v1/alerts</c>). Dispose kills the process
/// and removes the temp directory.
/// </summary>
public sealed class PrometheusServerHost : IDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(15) };

    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly string _directory;

    private PrometheusServerHost(Process process, int port, string directory)
    {
        _process = process;
        _directory = directory;
        BaseUri = new Uri($"http://127.0.0.1:{port}/");
    }

    public static string? ExecutablePath { get; } = Requirements.FindCommand("prometheus");

    public static bool IsAvailable => ExecutablePath is not null;

    public const string UnavailableReason = "the Prometheus server is not installed (Debian package 'prometheus')";

    public Uri BaseUri { get; }

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

        // The free port can be taken between probing and binding: try again with another one.
        for (var attempt = 1; ; attempt++)
        {
            var host = Launch(executable, FreePort(), directory, configPath);
            try
            {
                host.WaitUntilReady(TimeSpan.FromSeconds(30));
                return host;
            }
            catch (InvalidOperationException) when (attempt < 3 && host.Log.Contains("address already in use", StringComparison.Ordinal))
            {
                host.Kill();
            }
            catch
            {
                host.Dispose();
                throw;
            }
        }
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

    public void Dispose()
    {
        Kill();
        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
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

    private static PrometheusServerHost Launch(string executable, int port, string directory, string configPath)
    {
        var psi = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true, // no stdin of ours is inherited
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        psi.ArgumentList.Add($"--config.file={configPath}");
        psi.ArgumentList.Add($"--storage.tsdb.path={Path.Combine(directory, "data")}");
        psi.ArgumentList.Add($"--web.listen-address=127.0.0.1:{port}");
        psi.ArgumentList.Add("--log.level=warn");

        var process = new Process { StartInfo = psi };
        var host = new PrometheusServerHost(process, port, directory);
        process.OutputDataReceived += (_, e) => host.AppendLog(e.Data);
        process.ErrorDataReceived += (_, e) => host.AppendLog(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void AppendLog(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

    private void WaitUntilReady(TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            if (_process.HasExited)
            {
                _process.WaitForExit(); // drain the log
                throw new InvalidOperationException($"prometheus exited with code {_process.ExitCode} before it was ready: {Log}");
            }

            try
            {
                using var response = Http.GetAsync(new Uri(BaseUri, "-/ready")).GetAwaiter().GetResult();
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"prometheus was not ready on {BaseUri} within {limit.TotalSeconds} s: {Log}");
            }

            Thread.Sleep(100);
        }
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.WaitForExit();
        }
        catch (InvalidOperationException)
        {
            // never started
        }
    }
}

/// <summary>One rule as <c>/api/v1/rules</c> reports it.</summary>
public sealed record LoadedRule(string Group, string Name, string Type, string Health, string? LastError, string? LastEvaluation,
    IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, string State)> Alerts);
