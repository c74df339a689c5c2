using System.Management.Automation;
using System.Runtime.CompilerServices;
using VmProbe.Config;
using VmProbe.Prometheus;

namespace VmProbe.Commands;

/// <summary>
/// Export-PromTextFile: collects the whole pipeline and writes it once, atomically (never a half file), as a
/// node_exporter textfile.
/// </summary>
[Cmdlet(VerbsData.Export, "PromTextFile", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(FileInfo))]
public sealed class ExportPromTextFileCommand : VmProbeCmdlet
{
    // One legacy transform per config object, kept across calls: it holds the previous perf values for the deltas.
    private static readonly ConditionalWeakTable<ProbeConfig, LegacyState> LegacyByConfig = new();

    private readonly SampleCollector _samples = new();

    /// <summary>The .prom file to write (node_exporter's textfile collector reads only *.prom).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [AllowEmptyCollection]
    public PSObject[] InputObject { get; set; } = Array.Empty<PSObject>();

    [Parameter]
    [ValidatePattern("^([a-zA-Z_][a-zA-Z0-9_]*)?$")]
    public string Prefix { get; set; } = "vmprobe";

    /// <summary>
    /// The runner's config: with <c>naming: legacy</c> the file gets the C++ vmprobe's names, with perf deltas taken
    /// against the previous call made with the same config object (Start-VmProbe passes its one config every cycle).
    /// </summary>
    [Parameter]
    public ProbeConfig? Config { get; set; }

    /// <summary>Output the written file.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void BeginProcessing()
    {
        if (!Path.EndsWith(".prom", StringComparison.Ordinal))
        {
            WriteWarning($"'{Path}' does not end in .prom; node_exporter's textfile collector will ignore it.");
        }
    }

    protected override void ProcessRecord() => _samples.Add(this, InputObject);

    protected override void EndProcessing()
    {
        var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        if (!ShouldProcess(path, $"Write {_samples.Count} sample(s) in {_samples.Metrics.Families.Count} metric families"))
        {
            return;
        }

        try
        {
            var metrics = _samples.Metrics;
            if (Config is { Naming: MetricNaming.Legacy } config)
            {
                var legacy = LegacyByConfig.GetValue(config, c => new LegacyState(c));
                lock (legacy)
                {
                    legacy.Log.Target = Log;
                    try
                    {
                        metrics = legacy.Exposition.Transform(metrics, DateTimeOffset.UtcNow);
                    }
                    finally
                    {
                        legacy.Log.Target = null;
                    }
                }
            }

            new TextFileWriter(path).Write(metrics, new PromTextWriter(Prefix));
            if (PassThru.IsPresent)
            {
                WriteObject(new FileInfo(path));
            }
        }
        catch (Exception ex) when (ex is VmProbeException or IOException or UnauthorizedAccessException)
        {
            ThrowProbeError(ex, path);
        }
    }

    private sealed class LegacyState
    {
        public LegacyState(ProbeConfig config) => Exposition = new LegacyExposition(config.Events, config.DelayMs, Log);

        /// <summary>The exposition outlives the command that created it: its messages go to whichever command runs it now.</summary>
        public ForwardingLog Log { get; } = new();

        public LegacyExposition Exposition { get; }
    }

    private sealed class ForwardingLog : IProbeLog
    {
        public IProbeLog? Target { get; set; }

        public bool IsEnabled(LogLevel level) => Target?.IsEnabled(level) ?? false;

        public void Write(LogLevel level, string message) => Target?.Write(level, message);
    }
}
