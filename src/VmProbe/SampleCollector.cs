using System.Management.Automation;
using VmProbe.Prometheus;

namespace VmProbe.Commands;

/// <summary>Gathers piped sample objects into a MetricSet for ConvertTo-PromText and Export-PromTextFile.</summary>
internal sealed class SampleCollector
{
    private readonly SampleExposition _exposition = new(new MetricSet());

    public MetricSet Metrics => _exposition.Metrics;

    public int Count { get; private set; }

    /// <summary>Adds the samples in <paramref name="items"/>; each item that is no sample becomes its own error.</summary>
    public void Add(Cmdlet cmdlet, IEnumerable<PSObject?> items)
    {
        foreach (var item in items)
        {
            var value = item?.BaseObject;
            if (value is null)
            {
                continue;
            }

            if (!SampleExposition.IsSample(value))
            {
                cmdlet.WriteError(ErrorRecordFactory.Create(
                    "sample,not_vmprobe", ErrorCategory.InvalidArgument,
                    $"'{value.GetType().FullName}' is not a VmProbe sample; pipe the output of Read-VmPerfCounter, Read-VmSchedStat, Read-VmDomainStat or Read-VmHostStat.",
                    value));
                continue;
            }

            try
            {
                _exposition.Add(value);
                Count++;
            }
            catch (Exception ex) when (ex is VmProbeException or ArgumentException or InvalidOperationException)
            {
                // A sample whose labels clash with its family's (or a bad metric name) is dropped; the file still gets written.
                cmdlet.WriteError(ErrorRecordFactory.FromException(ex, value));
            }
        }
    }
}
