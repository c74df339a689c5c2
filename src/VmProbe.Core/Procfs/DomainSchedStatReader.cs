using VmProbe.Probe;

namespace VmProbe.Procfs;

/// <summary>
/// Scheduler statistics of one domain's QEMU threads (/proc/PID/task/TID/schedstat) as flat samples
/// (Read-VmSchedStat): run time, wait time and timeslices summed over all threads, and per vCPU thread.
/// Reuses its buffers across calls; not thread-safe.
/// </summary>
public sealed class DomainSchedStatReader : IDisposable
{
    private const double NsPerSecond = 1e9;

    private readonly DomainProcfsSampler _sampler;
    private readonly DomainProcfsSample _sample = new();

    public DomainSchedStatReader(string root = "/") => _sampler = new DomainProcfsSampler(root);

    /// <summary>Throws <see cref="ProcfsException"/> (NotFound) when the domain has no readable QEMU process.</summary>
    public List<VmSchedSample> Read(VmDomain domain, DateTimeOffset timestamp)
    {
        if (!_sampler.TrySample(domain, _sample))
        {
            var path = Path.Combine(_sampler.Proc.ProcDirectory, domain.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "task");
            throw new ProcfsException(
                domain.Pid <= 0
                    ? $"Domain '{domain.Name}' has no known QEMU process id; its scheduler statistics cannot be read."
                    : $"The QEMU process {domain.Pid} of domain '{domain.Name}' is gone or unreadable ({path}).",
                path,
                "domain_process,not_found",
                ProbeErrorKind.NotFound);
        }

        var uuid = domain.Uuid == Guid.Empty ? (Guid?)null : domain.Uuid;
        var samples = new List<VmSchedSample>(3 * (1 + _sample.VcpuCount));
        Add(samples, VmSampleScope.Domain, domain.Name, uuid, null, _sample.Total, timestamp);
        foreach (var vcpu in _sample.Vcpus)
        {
            if (vcpu.Present)
            {
                Add(samples, VmSampleScope.Vcpu, domain.Name, uuid, vcpu.Index, vcpu.Counters, timestamp);
            }
        }

        return samples;
    }

    public void Dispose() => _sampler.Dispose();

    private static void Add(List<VmSchedSample> samples, VmSampleScope scope, string domain, Guid? uuid, int? vcpu, in TaskCounters counters, DateTimeOffset timestamp)
    {
        samples.Add(new VmSchedSample { Scope = scope, Domain = domain, Uuid = uuid, Vcpu = vcpu, Metric = VmSchedSample.RunSecondsTotal, Value = counters.RunNanoseconds / NsPerSecond, Timestamp = timestamp });
        samples.Add(new VmSchedSample { Scope = scope, Domain = domain, Uuid = uuid, Vcpu = vcpu, Metric = VmSchedSample.WaitSecondsTotal, Value = counters.WaitNanoseconds / NsPerSecond, Timestamp = timestamp });
        samples.Add(new VmSchedSample { Scope = scope, Domain = domain, Uuid = uuid, Vcpu = vcpu, Metric = VmSchedSample.TimeslicesTotal, Value = counters.Timeslices, Timestamp = timestamp });
    }
}
