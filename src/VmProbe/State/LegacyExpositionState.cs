using VmProbe.Config;
using VmProbe.Prometheus;

namespace VmProbe.Commands;

/// <summary>
/// Export-PromTextFile's <c>naming: legacy</c> transform for one config object, kept in <see cref="ModuleState"/> across
/// calls: it holds the previous perf values the next call's deltas are taken against. Calls are serialized.
/// </summary>
internal sealed class LegacyExpositionState
{
    private readonly object _gate = new();
    private readonly ForwardingLog _log = new();
    private readonly LegacyExposition _exposition;

    public LegacyExpositionState(ProbeConfig config) => _exposition = new LegacyExposition(config.Events, config.DelayMs, _log);

    /// <summary>Transforms one call's samples; the exposition's messages go to <paramref name="log"/>, the calling command's.</summary>
    public MetricSet Transform(MetricSet metrics, IProbeLog log)
    {
        lock (_gate)
        {
            _log.Target = log;
            try
            {
                return _exposition.Transform(metrics, DateTimeOffset.UtcNow);
            }
            finally
            {
                _log.Target = null;
            }
        }
    }

    /// <summary>The exposition outlives the command that created it: its messages go to whichever command runs it now.</summary>
    private sealed class ForwardingLog : IProbeLog
    {
        public IProbeLog? Target { get; set; }

        public bool IsEnabled(LogLevel level) => Target?.IsEnabled(level) ?? false;

        public void Write(LogLevel level, string message) => Target?.Write(level, message);
    }
}
