using System.Management.Automation;

namespace VmProbe.Commands;

/// <summary>
/// Read-VmSchedStat: the runner's procfs series of each domain's QEMU threads (scheduler run/wait time and timeslices
/// per domain and per vCPU, page faults, guest time, thread count), read once for all the domains of the pipeline.
/// </summary>
[Cmdlet(VerbsCommunications.Read, "VmSchedStat")]
[OutputType(typeof(VmStatSample))]
public sealed class ReadVmSchedStatCommand : DomainReaderCommand
{
    protected override void ReadDomains(IReadOnlyList<VmDomain> domains)
    {
        try
        {
            // One read for all domains per reading: the sum over a domain's threads is one consistent sample per call.
            var reader = ModuleState.Current.SchedReader;
            Sample(errors => reader.Read(domains, DateTimeOffset.Now, errors, Log));
        }
        catch (VmProbeException ex)
        {
            // Per-domain problems arrive in errors; an exception here means nothing could be read (procfs unreadable).
            ThrowProbeError(ex, null);
        }
    }
}
