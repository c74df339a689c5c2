using System.Globalization;

namespace VmProbe.Prometheus;

/// <summary>
/// Maps the flat sample objects the cmdlets emit (<see cref="VmPerfSample"/>, <see cref="VmSchedSample"/>,
/// <see cref="VmStatSample"/>) onto metric families, so that ConvertTo-PromText and Export-PromTextFile write
/// the same series the runner writes. Family names carry no prefix:
/// <list type="bullet">
/// <item><c>host_perf_events_total{event}</c>, <c>domain_perf_events_total{domain,uuid,event}</c>,
/// <c>domain_vcpu_perf_events_total{domain,uuid,vcpu,event}</c></item>
/// <item><c>host_sched_METRIC</c>, <c>domain_sched_METRIC{domain,uuid}</c>, <c>domain_vcpu_sched_METRIC{domain,uuid,vcpu}</c>
/// (METRIC is run_seconds_total, wait_seconds_total or timeslices_total)</item>
/// <item><c>host_METRIC{[device]}</c>, <c>domain_METRIC{domain,uuid[,device]}</c>, <c>domain_vcpu_METRIC{domain,uuid,vcpu[,device]}</c></item>
/// </list>
/// </summary>
public sealed class SampleExposition
{
    private static readonly string[] HostEventLabels = { "event" };
    private static readonly string[] DomainEventLabels = { "domain", "uuid", "event" };
    private static readonly string[] VcpuEventLabels = { "domain", "uuid", "vcpu", "event" };
    private static readonly string[] NoLabels = Array.Empty<string>();
    private static readonly string[] DomainLabels = { "domain", "uuid" };
    private static readonly string[] VcpuLabels = { "domain", "uuid", "vcpu" };
    private static readonly string[] DeviceLabels = { "device" };
    private static readonly string[] DomainDeviceLabels = { "domain", "uuid", "device" };
    private static readonly string[] VcpuDeviceLabels = { "domain", "uuid", "vcpu", "device" };

    // Family names built once per (kind, scope, metric) rather than once per sample.
    private readonly Dictionary<(char Kind, VmSampleScope Scope, string Metric), string> _familyNames = new();

    public SampleExposition(MetricSet metrics)
    {
        Metrics = metrics;
    }

    public MetricSet Metrics { get; }

    /// <summary>Builds a new set from any mix of sample objects.</summary>
    public static MetricSet ToMetricSet(IEnumerable<object> samples)
    {
        var exposition = new SampleExposition(new MetricSet());
        foreach (var sample in samples)
        {
            exposition.Add(sample);
        }

        return exposition.Metrics;
    }

    /// <summary>True for the sample types this class maps.</summary>
    public static bool IsSample(object? value) => value is VmPerfSample or VmSchedSample or VmStatSample;

    /// <summary>Adds one sample of any supported type; anything else is an <see cref="ArgumentException"/>.</summary>
    public void Add(object sample)
    {
        switch (sample)
        {
            case VmPerfSample perf:
                Add(perf);
                break;
            case VmSchedSample sched:
                Add(sched);
                break;
            case VmStatSample stat:
                Add(stat);
                break;
            default:
                throw new ArgumentException(
                    $"'{sample?.GetType().FullName ?? "null"}' is not a VmProbe sample; expected VmPerfSample, VmSchedSample or VmStatSample.",
                    nameof(sample));
        }
    }

    public void Add(VmPerfSample sample)
    {
        switch (sample.Scope)
        {
            case VmSampleScope.Host:
                Metrics.Family("host_perf_events_total", MetricType.Counter, "perf events counted on the whole host.", HostEventLabels)
                    .Add(sample.Value, sample.Event);
                break;
            case VmSampleScope.Domain:
                Metrics.Family("domain_perf_events_total", MetricType.Counter, "perf events counted in the domain's QEMU threads.", DomainEventLabels)
                    .Add(sample.Value, DomainName(sample.Domain), UuidLabel(sample.Uuid), sample.Event);
                break;
            default:
                Metrics.Family("domain_vcpu_perf_events_total", MetricType.Counter, "perf events counted in one vCPU thread of the domain.", VcpuEventLabels)
                    .Add(sample.Value, DomainName(sample.Domain), UuidLabel(sample.Uuid), VcpuLabel(sample.Vcpu), sample.Event);
                break;
        }
    }

    public void Add(VmSchedSample sample)
    {
        var name = FamilyName('s', sample.Scope, sample.Metric);
        var type = TypeOf(sample.Metric);
        switch (sample.Scope)
        {
            case VmSampleScope.Host:
                Metrics.Family(name, type, $"Scheduler {Readable(sample.Metric)} of the host.", NoLabels).Add(sample.Value);
                break;
            case VmSampleScope.Domain:
                Metrics.Family(name, type, $"Scheduler {Readable(sample.Metric)} of all the domain's threads.", DomainLabels)
                    .Add(sample.Value, DomainName(sample.Domain), UuidLabel(sample.Uuid));
                break;
            default:
                Metrics.Family(name, type, $"Scheduler {Readable(sample.Metric)} of one vCPU thread.", VcpuLabels)
                    .Add(sample.Value, DomainName(sample.Domain), UuidLabel(sample.Uuid), VcpuLabel(sample.Vcpu));
                break;
        }
    }

    public void Add(VmStatSample sample)
    {
        if (sample.Family is not null && sample.Labels is not null)
        {
            AddExact(sample);
            return;
        }

        var name = FamilyName('t', sample.Scope, sample.Metric);
        var type = TypeOf(sample.Metric);
        var hasDevice = sample.Device is not null;
        switch (sample.Scope)
        {
            case VmSampleScope.Host:
                var hostFamily = Metrics.Family(name, type, $"Host {Readable(sample.Metric)}.", hasDevice ? DeviceLabels : NoLabels);
                if (hasDevice)
                {
                    hostFamily.Add(sample.Value, sample.Device!);
                }
                else
                {
                    hostFamily.Add(sample.Value);
                }

                break;
            case VmSampleScope.Domain:
                var domainFamily = Metrics.Family(name, type, $"Domain {Readable(sample.Metric)}.", hasDevice ? DomainDeviceLabels : DomainLabels);
                if (hasDevice)
                {
                    domainFamily.Add(sample.Value, DomainName(sample.Domain), UuidLabel(sample.Uuid), sample.Device!);
                }
                else
                {
                    domainFamily.Add(sample.Value, DomainName(sample.Domain), UuidLabel(sample.Uuid));
                }

                break;
            default:
                var vcpuFamily = Metrics.Family(name, type, $"vCPU {Readable(sample.Metric)}.", hasDevice ? VcpuDeviceLabels : VcpuLabels);
                if (hasDevice)
                {
                    vcpuFamily.Add(sample.Value, DomainName(sample.Domain), UuidLabel(sample.Uuid), VcpuLabel(sample.Vcpu), sample.Device!);
                }
                else
                {
                    vcpuFamily.Add(sample.Value, DomainName(sample.Domain), UuidLabel(sample.Uuid), VcpuLabel(sample.Vcpu));
                }

                break;
        }
    }

    /// <summary>A sample flattened from a metric source: its family and labels go back exactly as the source declared them.</summary>
    private void AddExact(VmStatSample sample)
    {
        var labels = sample.Labels!;
        var names = new string[labels.Count];
        var values = new string[labels.Count];
        var i = 0;
        foreach (System.Collections.DictionaryEntry entry in labels)
        {
            names[i] = entry.Key.ToString() ?? string.Empty;
            values[i] = entry.Value?.ToString() ?? string.Empty;
            i++;
        }

        Metrics.Family(sample.Family!, sample.Type, sample.Help ?? string.Empty, names).Add(sample.Value, values);
    }

    private string FamilyName(char kind, VmSampleScope scope, string metric)
    {
        if (_familyNames.TryGetValue((kind, scope, metric), out var cached))
        {
            return cached;
        }

        if (!IsMetricName(metric))
        {
            throw new VmProbeException(
                $"Sample metric '{metric}' is not a valid Prometheus metric name part ([a-z0-9_], not starting with a digit).",
                "sample_metric,invalid_name",
                ProbeErrorKind.InvalidData);
        }

        var scopePart = scope switch
        {
            VmSampleScope.Host => "host_",
            VmSampleScope.Domain => "domain_",
            _ => "domain_vcpu_",
        };
        var name = scopePart + (kind == 's' ? "sched_" : string.Empty) + metric;
        _familyNames.Add((kind, scope, metric), name);
        return name;
    }

    private static MetricType TypeOf(string metric) => metric.EndsWith("_total", StringComparison.Ordinal) ? MetricType.Counter : MetricType.Gauge;

    private static string Readable(string metric) => metric.Replace('_', ' ');

    private static bool IsMetricName(string metric)
    {
        if (metric.Length == 0 || char.IsAsciiDigit(metric[0]))
        {
            return false;
        }

        foreach (var c in metric)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }

    private static string DomainName(string? domain) => domain ?? string.Empty;

    private static string UuidLabel(Guid? uuid) => uuid?.ToString("D") ?? string.Empty;

    private static string VcpuLabel(int? vcpu) => vcpu?.ToString(CultureInfo.InvariantCulture) ?? string.Empty;
}
