namespace VmProbe;

/// <summary>
/// One statistic of the host (procfs) or of a domain (libvirt bulk stats), flat for Format-Table and Export-Csv.
/// <see cref="Metric"/> is a Prometheus-safe name without scope, for example <c>cpu_seconds_total</c> or
/// <c>block_read_bytes_total</c>; a name ending in <c>_total</c> is a counter, any other a gauge.
/// <see cref="Device"/> names the disk, interface or CPU the value belongs to, or is null.
/// </summary>
public sealed class VmStatSample
{
    public VmSampleScope Scope { get; init; }

    public string? Domain { get; init; }

    public Guid? Uuid { get; init; }

    public int? Vcpu { get; init; }

    public required string Metric { get; init; }

    public string? Device { get; init; }

    public double Value { get; init; }

    public DateTimeOffset Timestamp { get; init; }
}
