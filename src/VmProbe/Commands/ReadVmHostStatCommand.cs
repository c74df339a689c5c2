using System.Management.Automation;
using VmProbe.Power;
using VmProbe.Procfs;

namespace VmProbe.Commands;

/// <summary>
/// Read-VmHostStat: host-wide procfs statistics (CPU time, memory, scheduler) and power (energy per zone and meter,
/// platform watts; a host without meters has none) as flat samples, once or repeatedly. The power source lives as long
/// as the command, so repeated readings' energy increases and its Rate is watts.
/// </summary>
[Cmdlet(VerbsCommunications.Read, "VmHostStat")]
[OutputType(typeof(VmStatSample))]
public sealed class ReadVmHostStatCommand : ContinuousReaderCommand
{
    private readonly PowerSource _power = new(new PowerOptions(), NullProbeLog.Instance);

    protected override void EndProcessing()
    {
        try
        {
            Sample(errors => HostStatReader.Read(DateTimeOffset.Now, Log, errors, also: _power));
        }
        catch (Exception ex) when (ex is VmProbeException)
        {
            ThrowProbeError(ex, null);
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _power.Dispose();
        }
    }
}
