
namespace VmProbe.Procfs;

/// <summary>
/// One reading of the runner's <see cref="HostProcfsSource"/> as flat samples (Read-VmHostStat): the same families,
/// labels and help the runner writes.
/// </summary>
public static class HostStatReader
{
    /// <param name="also">Another host source read into the same set after procfs (Read-VmHostStat's power source, kept by the command).</param>
    public static List<VmStatSample> Read(DateTimeOffset timestamp, IProbeLog log, ICollection<VmProbeException>? errors = null, string root = "/", IMetricSource? also = null)
    {
        var metrics = new MetricSet();
        var context = new CycleContext(Array.Empty<VmDomain>(), timestamp, log, CancellationToken.None) { ItemErrors = errors };
        using (var source = new HostProcfsSource(root))
        {
            source.Collect(context, metrics);
        }

        also?.Collect(context, metrics);

        return MetricSetSamples.ToStatSamples(metrics, timestamp);
    }
}
