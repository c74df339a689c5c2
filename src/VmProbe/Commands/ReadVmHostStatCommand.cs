using System.Management.Automation;
using VmProbe.Procfs;

namespace VmProbe.Commands;

/// <summary>Read-VmHostStat: host-wide procfs statistics (CPU time, memory, scheduler) as flat samples.</summary>
[Cmdlet(VerbsCommunications.Read, "VmHostStat")]
[OutputType(typeof(VmStatSample))]
public sealed class ReadVmHostStatCommand : VmProbeCmdlet
{
    protected override void EndProcessing()
    {
        try
        {
            var errors = new List<VmProbeException>();
            WriteObject(HostStatReader.Read(DateTimeOffset.Now, Log, errors), enumerateCollection: true);
            WriteProbeErrors(errors);
        }
        catch (Exception ex) when (ex is VmProbeException)
        {
            ThrowProbeError(ex, null);
        }
    }
}
