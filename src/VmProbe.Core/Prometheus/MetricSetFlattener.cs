using System.Collections.Specialized;
using System.Globalization;

namespace VmProbe.Prometheus;

/// <summary>
/// Turns the families a metric source wrote into flat <see cref="VmStatSample"/>s (one per series) that keep the
/// exact family name, type, help and labels, so that <see cref="SampleExposition"/> rebuilds the same exposition the
/// runner writes from that source. The flat columns (Scope, Domain, Uuid, Vcpu, Metric, Device) come from the
/// family name's scope prefix and the domain/uuid/vcpu labels.
/// </summary>
public static class MetricSetFlattener
{
    private const string DomainLabel = "domain";
    private const string UuidLabel = "uuid";
    private const string VcpuLabel = "vcpu";

    /// <summary>Every series of <paramref name="metrics"/>, or those <paramref name="include"/> accepts.</summary>
    public static List<VmStatSample> ToStatSamples(
        MetricSet metrics, DateTimeOffset timestamp, Func<MetricFamily, MetricSample, bool>? include = null)
    {
        var samples = new List<VmStatSample>();
        foreach (var family in metrics.Families)
        {
            var (scope, metric) = Split(family.Name);
            var domainIndex = IndexOf(family.LabelNames, DomainLabel);
            var uuidIndex = IndexOf(family.LabelNames, UuidLabel);
            var vcpuIndex = IndexOf(family.LabelNames, VcpuLabel);
            foreach (var series in family.Samples)
            {
                if (include is not null && !include(family, series))
                {
                    continue;
                }

                var labels = new OrderedDictionary(family.LabelNames.Count, StringComparer.Ordinal);
                string? device = null;
                for (var i = 0; i < family.LabelNames.Count; i++)
                {
                    labels.Add(family.LabelNames[i], series.LabelValues[i]);
                    if (i != domainIndex && i != uuidIndex && i != vcpuIndex)
                    {
                        device = device is null ? series.LabelValues[i] : device + "," + series.LabelValues[i];
                    }
                }

                samples.Add(new VmStatSample
                {
                    Scope = vcpuIndex >= 0 ? VmSampleScope.Vcpu : scope,
                    Domain = domainIndex >= 0 ? series.LabelValues[domainIndex] : null,
                    Uuid = uuidIndex >= 0 && Guid.TryParse(series.LabelValues[uuidIndex], out var uuid) ? uuid : null,
                    Vcpu = vcpuIndex >= 0 && int.TryParse(series.LabelValues[vcpuIndex], NumberStyles.None, CultureInfo.InvariantCulture, out var vcpu) ? vcpu : null,
                    Metric = metric,
                    Device = device,
                    Value = series.Value,
                    Timestamp = timestamp,
                    Family = family.Name,
                    Type = family.Type,
                    Help = family.Help,
                    Labels = labels,
                });
            }
        }

        return samples;
    }

    /// <summary>The uuid label value of a series, or null when its family has none (aggregates such as <c>domains{state}</c>).</summary>
    public static string? UuidOf(MetricFamily family, MetricSample series)
    {
        var index = IndexOf(family.LabelNames, UuidLabel);
        return index >= 0 ? series.LabelValues[index] : null;
    }

    private static (VmSampleScope Scope, string Metric) Split(string familyName)
    {
        if (familyName.StartsWith("domain_vcpu_", StringComparison.Ordinal))
        {
            return (VmSampleScope.Vcpu, familyName["domain_vcpu_".Length..]);
        }

        if (familyName.StartsWith("domain_", StringComparison.Ordinal))
        {
            return (VmSampleScope.Domain, familyName["domain_".Length..]);
        }

        if (familyName.StartsWith("host_", StringComparison.Ordinal))
        {
            return (VmSampleScope.Host, familyName["host_".Length..]);
        }

        // Aggregates without a scope prefix (domains{state}) describe the host's set of domains.
        return (VmSampleScope.Host, familyName);
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
