using VmProbe.Config;
using VmProbe.Prometheus;

namespace VmProbe.Commands;

/// <summary>What Export-PromTextFile does beyond binding: the naming the config asks for, then one atomic file write.</summary>
internal static class PromTextFileExport
{
    /// <summary>A warning for a path node_exporter's textfile collector skips (it reads only *.prom), else null.</summary>
    public static string? IgnoredPathWarning(string path) =>
        path.EndsWith(".prom", StringComparison.Ordinal) ? null : $"'{path}' does not end in .prom; node_exporter's textfile collector will ignore it.";

    /// <summary>The ShouldProcess action for the collected samples.</summary>
    public static string Describe(SampleCollector samples) =>
        $"Write {samples.Count} sample(s) in {samples.Metrics.Families.Count} metric families";

    /// <summary>The failures Export-PromTextFile reports as its error records.</summary>
    public static bool IsWriteFailure(Exception ex) => ex is VmProbeException or IOException or UnauthorizedAccessException;

    /// <summary>
    /// Writes <paramref name="metrics"/> to <paramref name="path"/> whole or not at all. With <c>naming: legacy</c> in
    /// <paramref name="config"/> the C++ vmprobe's names are written, perf values as deltas against the previous call made
    /// with the same config object in this runspace (the transform is kept in <see cref="ModuleState"/>).
    /// </summary>
    public static void Write(string path, MetricSet metrics, string prefix, ProbeConfig? config, IProbeLog log)
    {
        if (config is { Naming: MetricNaming.Legacy })
        {
            metrics = ModuleState.Current.LegacyExpositionFor(config).Transform(metrics, log);
        }

        ModuleState.Current.PromTextFileFor(path, prefix).Write(metrics);
    }
}
