
namespace VmProbe.Procfs;

/// <summary>
/// One reading of the runner's <see cref="HostProcfsSource"/> as flat samples (Read-VmHostStat): the same families,
/// labels and help the runner writes.
/// </summary>
public static class HostStatReader
{
    public static List<VmStatSample> Read(DateTimeOffset timestamp, IProbeLog log, ICollection<VmProbeException>? errors = null, string root = "/")
    {
        var metrics = new MetricSet();
        using (var source = new HostProcfsSource(root))
        {
            source.Collect(new CycleContext(Array.Empty<VmDomain>(), timestamp, log, CancellationToken.None) { ItemErrors = errors }, metrics);
        }

        return MetricSetSamples.ToStatSamples(metrics, timestamp);
    }
}
