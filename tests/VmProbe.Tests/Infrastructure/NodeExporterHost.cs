using System.Net;

namespace VmProbe.Tests.Infrastructure;

/// <summary>
/// A real node_exporter (Debian package <c>prometheus-node-exporter</c>) serving only the textfile collector from a
/// directory, on 127.0.0.1 and a free port, so a test can check that node_exporter accepts what we write.
/// </summary>
/// <example>
/// <code>
/// Skip.IfNot(NodeExporterHost.IsAvailable, NodeExporterHost.UnavailableReason);
/// using var exporter = NodeExporterHost.Start();                 // own temp textfile directory
/// File.WriteAllText(Path.Combine(exporter.TextfileDirectory, "x.prom"), text);
/// var scrape = exporter.Scrape();
/// Assert.Equal(0, scrape.TextfileScrapeError);
/// Assert.Equal(42, scrape.ValueOf("vmprobe_x", ("domain", "vm1")));
/// </code>
/// </example>
/// <remarks>
/// node_exporter reports syntax errors, timestamps and a missing final newline as <c>node_textfile_scrape_error 1</c>,
/// but drops duplicate series, families with inconsistent HELP/TYPE and names clashing with its own silently
/// (HTTP 200, error 0, only a log line): compare the scraped series with the written ones, and look at
/// <see cref="ErrorLog"/>. Dispose kills the process and removes a directory it created.
/// </remarks>
public sealed class NodeExporterHost : LocalServerProcess
{
    private readonly bool _ownsDirectory;

    private NodeExporterHost(int port, string textfileDirectory, bool ownsDirectory)
        : base(port)
    {
        TextfileDirectory = textfileDirectory;
        _ownsDirectory = ownsDirectory;
        MetricsUri = new Uri($"http://127.0.0.1:{port}/metrics");
    }

    public static string? ExecutablePath { get; } =
        Requirements.FindCommand("prometheus-node-exporter") ?? Requirements.FindCommand("node_exporter");

    public static bool IsAvailable => ExecutablePath is not null;

    public const string UnavailableReason = "node_exporter is not installed (Debian package 'prometheus-node-exporter')";

    public Uri MetricsUri { get; }

    /// <summary>The --collector.textfile.directory: put <c>*.prom</c> files here.</summary>
    public string TextfileDirectory { get; }

    protected override string ServerName => "node_exporter";

    /// <summary>
    /// The log lines at level warn or error, for example about a dropped duplicate series, without the start-up
    /// warning about running as root. Log lines arrive asynchronously: use <see cref="WaitForErrorLog"/> to expect one.
    /// </summary>
    public IReadOnlyList<string> ErrorLog =>
        Log.Split('\n')
            .Where(l => l.Contains("level=error", StringComparison.Ordinal) || l.Contains("level=warn", StringComparison.Ordinal))
            .Where(l => !l.Contains("running as root", StringComparison.Ordinal))
            .ToList();

    /// <summary>Waits (up to 5 s) for a warn/error log line and returns <see cref="ErrorLog"/>, possibly empty.</summary>
    public IReadOnlyList<string> WaitForErrorLog()
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (ErrorLog.Count == 0 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }

        return ErrorLog;
    }

    /// <summary>
    /// Starts node_exporter with only the textfile collector on <paramref name="textfileDirectory"/> (a new temp
    /// directory when null, removed on Dispose) and waits until it answers on /metrics.
    /// </summary>
    /// <exception cref="InvalidOperationException">node_exporter is missing, exited, or did not answer within 15 s; the message has its log.</exception>
    public static NodeExporterHost Start(string? textfileDirectory = null)
    {
        var executable = ExecutablePath ?? throw new InvalidOperationException(UnavailableReason);
        var ownsDirectory = textfileDirectory is null;
        var directory = textfileDirectory ?? Directory.CreateTempSubdirectory("vmprobe-textfile-").FullName;
        return StartOnFreePort(
            port =>
            {
                var host = new NodeExporterHost(port, directory, ownsDirectory);
                host.Launch(executable, new[]
                {
                    $"--web.listen-address=127.0.0.1:{port}", "--collector.disable-defaults", "--collector.textfile",
                    $"--collector.textfile.directory={directory}",
                });
                return host;
            },
            "metrics",
            TimeSpan.FromSeconds(15));
    }

    /// <summary>GET /metrics and return the body.</summary>
    public string ScrapeBody()
    {
        using var response = Http.GetAsync(MetricsUri).GetAwaiter().GetResult();
        var body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"GET {MetricsUri} answered {(int)response.StatusCode}: {body}");
        }

        return body;
    }

    /// <summary>Scrapes /metrics and parses it.</summary>
    public NodeExporterScrape Scrape() => new(ScrapeBody());

    protected override void Cleanup()
    {
        if (_ownsDirectory)
        {
            DeleteDirectory(TextfileDirectory);
        }
    }
}

/// <summary>One scrape of node_exporter's /metrics: the body, its series, and the textfile collector's verdict.</summary>
public sealed class NodeExporterScrape
{
    public NodeExporterScrape(string body)
    {
        Body = body;
        Series = ExpositionText.Parse(body);
        TextfileScrapeError = ExpositionText.ValueOf(Series, "node_textfile_scrape_error");
    }

    public string Body { get; }

    public IReadOnlyList<ExposedSeries> Series { get; }

    /// <summary><c>node_textfile_scrape_error</c>: 0 when every *.prom file was read, 1 when one failed; null if absent.</summary>
    public double? TextfileScrapeError { get; }

    /// <summary>The value of the series with exactly this name and labels, or null when node_exporter does not serve it.</summary>
    public double? ValueOf(string name, params (string Name, string Value)[] labels) => ExpositionText.ValueOf(Series, name, labels);

    /// <summary>The series whose name starts with <paramref name="prefix"/> (for example <c>vmprobe_</c>).</summary>
    public IReadOnlyList<ExposedSeries> WithPrefix(string prefix) => Series.Where(s => s.Name.StartsWith(prefix, StringComparison.Ordinal)).ToList();
}
