
namespace VmProbe.Libvirt;

/// <summary>
/// One reading of the runner's <see cref="LibvirtDomainSource"/> (one virConnectGetAllDomainStats call) as flat samples
/// (Read-VmDomainStat): the same families, labels and help the runner writes.
/// </summary>
public static class LibvirtStatReader
{
    /// <summary>
    /// Stats of the domains whose UUID is in <paramref name="uuids"/>, or of every domain when null (then the
    /// aggregate <c>domains{state}</c> family is included too). Throws <see cref="LibvirtException"/> when libvirt fails.
    /// </summary>
    public static List<VmStatSample> Read(
        string uri, IReadOnlyCollection<Guid>? uuids, DateTimeOffset timestamp, IProbeLog log, ICollection<VmProbeException>? errors = null, TimeSpan? callTimeout = null)
    {
        LibvirtUrlPolicy.Ensure(uri, allowRemote: false);
        var metrics = new MetricSet();
        using (var session = new LibvirtSession(uri, callTimeout ?? LibvirtSession.DefaultCallTimeout, log))
        using (var source = new LibvirtDomainSource(session))
        {
            source.Collect(new CycleContext(Array.Empty<VmDomain>(), timestamp, log, CancellationToken.None), metrics);
        }

        if (uuids is null)
        {
            return MetricSetSamples.ToStatSamples(metrics, timestamp);
        }

        var wanted = new HashSet<string>(uuids.Select(u => u.ToString("D")), StringComparer.OrdinalIgnoreCase);
        var samples = MetricSetSamples.ToStatSamples(
            metrics, timestamp, (family, series) => MetricSetSamples.UuidOf(family, series) is { } uuid && wanted.Contains(uuid));
        if (errors is not null)
        {
            // A domain asked for but absent from the bulk reply stopped (or was undefined) since it was listed.
            foreach (var uuid in uuids.Where(u => !samples.Any(s => s.Uuid == u)))
            {
                errors.Add(new LibvirtException(
                    "virConnectGetAllDomainStats", LibvirtErrorCode.NoDomain, errorDomain: 0, level: 2, $"no statistics at {uri}: the domain is not running (any more)", uuid.ToString("D")));
            }
        }

        return samples;
    }
}
