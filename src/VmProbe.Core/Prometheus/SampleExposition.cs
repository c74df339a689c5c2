using System.Globalization;

namespace VmProbe.Prometheus;

/// <summary>
/// The way back from the flat sample objects the cmdlets emit (<see cref="VmPerfSample"/>, <see cref="VmStatSample"/>)
/// to metric families, so that ConvertTo-PromText and Export-PromTextFile write the same series the runner writes;
/// <see cref="MetricSetFlattener"/> is the way there, and the round trip renders byte for byte the same.
/// <list type="bullet">
/// <item>A <see cref="VmPerfSample"/> goes to the perf source's families (<see cref="PerfSampleFamilies"/>): counts and, for host
/// and domain readings, the scaling ratio; a host reading with <see cref="VmPerfSample.Cpu"/> to the per-CPU series.</item>
/// <item>A <see cref="VmStatSample"/> flattened from a metric set goes back to its family exactly (name, type, help, labels).</item>
/// <item>A <see cref="VmStatSample"/> built by hand goes to <c>host_METRIC{[device]}</c>, <c>domain_METRIC{domain,uuid[,device]}</c>
/// or <c>domain_vcpu_METRIC{domain,uuid,vcpu[,device]}</c>, a counter when METRIC ends in <c>_total</c>.</item>
/// </list>
/// A series given more than once (the readings of Read-VmHostStat -MaxSamples 3, or of -Continuous) is written once,
/// with the value of its last sample. The Interval and Rate of repeated readings are not exposed: Prometheus takes rates itself.
/// </summary>
public sealed class SampleExposition
{
    private static readonly string[] NoLabels = Array.Empty<string>();
    private static readonly string[] DomainLabels = { "domain", "uuid" };
    private static readonly string[] VcpuLabels = { "domain", "uuid", "vcpu" };
    private static readonly string[] DeviceLabels = { "device" };
    private static readonly string[] DomainDeviceLabels = { "domain", "uuid", "device" };
    private static readonly string[] VcpuDeviceLabels = { "domain", "uuid", "vcpu", "device" };

    // Family names of hand-built samples, built once per (scope, metric) rather than once per sample.
    private readonly Dictionary<(VmSampleScope Scope, string Metric), string> _familyNames = new();

    // Where each series this instance added sits in its family: a later reading of the same series replaces the value.
    private readonly Dictionary<string, int> _seriesIndex = new(StringComparer.Ordinal);

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
    public static bool IsSample(object? value) => value is VmPerfSample or VmStatSample;

    /// <summary>Adds one sample of any supported type; anything else is an <see cref="ArgumentException"/>.</summary>
    public void Add(object sample)
    {
        switch (sample)
        {
            case VmPerfSample perf:
                Add(perf);
                break;
            case VmStatSample stat:
                Add(stat);
                break;
            default:
                throw new ArgumentException(
                    $"'{sample?.GetType().FullName ?? "null"}' is not a VmProbe sample; expected VmPerfSample or VmStatSample.",
                    nameof(sample));
        }
    }

    /// <summary>
    /// The perf source's families: <c>*_perf_events_total</c> and, for host and domain readings, <c>*_perf_scaling_ratio</c>
    /// (the runner has no per-vCPU ratio); a host reading with <see cref="VmPerfSample.Cpu"/> goes to the per-CPU series.
    /// </summary>
    public void Add(VmPerfSample sample)
    {
        switch (sample.Scope)
        {
            case VmSampleScope.Host when sample.Cpu is { } cpu:
                var cpuLabel = cpu.ToString(CultureInfo.InvariantCulture);
                Put(Metrics.Family(PerfSampleFamilies.HostCpuEvents), sample.Value, cpuLabel, sample.Event);
                Put(Metrics.Family(PerfSampleFamilies.HostCpuScalingRatio), sample.ScalingRatio, cpuLabel, sample.Event);
                break;
            case VmSampleScope.Host:
                Put(Metrics.Family(PerfSampleFamilies.HostEvents), sample.Value, sample.Event);
                Put(Metrics.Family(PerfSampleFamilies.HostScalingRatio), sample.ScalingRatio, sample.Event);
                break;
            case VmSampleScope.Domain:
                Put(Metrics.Family(PerfSampleFamilies.DomainEvents), sample.Value, DomainName(sample.Domain), UuidLabel(sample.Uuid), sample.Event);
                Put(Metrics.Family(PerfSampleFamilies.DomainScalingRatio), sample.ScalingRatio, DomainName(sample.Domain), UuidLabel(sample.Uuid), sample.Event);
                break;
            default:
                Put(Metrics.Family(PerfSampleFamilies.VcpuEvents), sample.Value, DomainName(sample.Domain), UuidLabel(sample.Uuid), VcpuLabel(sample.Vcpu), sample.Event);
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

        var name = FamilyName(sample.Scope, sample.Metric);
        var type = TypeOf(sample.Metric);
        var hasDevice = sample.Device is not null;
        switch (sample.Scope)
        {
            case VmSampleScope.Host:
                var hostFamily = Metrics.Family(name, type, $"Host {Readable(sample.Metric)}.", hasDevice ? DeviceLabels : NoLabels);
                if (hasDevice)
                {
                    Put(hostFamily, sample.Value, sample.Device!);
                }
                else
                {
                    Put(hostFamily, sample.Value);
                }

                break;
            case VmSampleScope.Domain:
                var domainFamily = Metrics.Family(name, type, $"Domain {Readable(sample.Metric)}.", hasDevice ? DomainDeviceLabels : DomainLabels);
                if (hasDevice)
                {
                    Put(domainFamily, sample.Value, DomainName(sample.Domain), UuidLabel(sample.Uuid), sample.Device!);
                }
                else
                {
                    Put(domainFamily, sample.Value, DomainName(sample.Domain), UuidLabel(sample.Uuid));
                }

                break;
            default:
                var vcpuFamily = Metrics.Family(name, type, $"vCPU {Readable(sample.Metric)}.", hasDevice ? VcpuDeviceLabels : VcpuLabels);
                if (hasDevice)
                {
                    Put(vcpuFamily, sample.Value, DomainName(sample.Domain), UuidLabel(sample.Uuid), VcpuLabel(sample.Vcpu), sample.Device!);
                }
                else
                {
                    Put(vcpuFamily, sample.Value, DomainName(sample.Domain), UuidLabel(sample.Uuid), VcpuLabel(sample.Vcpu));
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

        var family = Metrics.Family(sample.Family!, sample.Type, sample.Help ?? string.Empty, names);
        if (sample.Type == MetricType.Histogram)
        {
            family.AddHistogram(sample.Histogram ?? new HistogramValue(Array.Empty<double>(), Array.Empty<double>(), sample.Value), values);
            return;
        }

        Put(family, sample.Value, values);
    }

    /// <summary>
    /// Adds a series, or replaces its value when this instance added it before: samples of repeated readings
    /// (Read-VmHostStat -MaxSamples 3) give one series each, with the newest reading's value, as a textfile is one instant.
    /// </summary>
    private void Put(MetricFamily family, double value, params string[] labelValues)
    {
        var key = family.Name + "\0" + string.Join("\0", labelValues);
        if (_seriesIndex.TryGetValue(key, out var index))
        {
            family.SetValue(index, value);
            return;
        }

        family.Add(value, labelValues);
        _seriesIndex.Add(key, family.Samples.Count - 1);
    }

    private string FamilyName(VmSampleScope scope, string metric)
    {
        if (_familyNames.TryGetValue((scope, metric), out var cached))
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

        var name = MetricSetFlattener.PrefixOf(scope) + metric;
        _familyNames.Add((scope, metric), name);
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
