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
public sealed class ReadVmHostStatCommand : VmProbeCmdlet, IDisposable
{
    private readonly ContinuousSampler _sampler = new();
    private readonly PowerSource _power = new(new PowerOptions(), NullProbeLog.Instance);

    /// <summary>Read until stopped (Ctrl+C), every -SampleInterval seconds.</summary>
    [Parameter]
    public SwitchParameter Continuous { get; set; }

    /// <summary>Seconds between readings.</summary>
    [Parameter]
    [ValidateSampleInterval]
    public double SampleInterval { get; set; } = 1;

    /// <summary>How many readings to take.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxSamples { get; set; } = 1;

    protected override void EndProcessing()
    {
        try
        {
            _sampler.Run(this, Continuous.IsPresent, SampleInterval, MaxSamples, errors => HostStatReader.Read(DateTimeOffset.Now, Log, errors, also: _power));
        }
        catch (Exception ex) when (ex is VmProbeException)
        {
            ThrowProbeError(ex, null);
        }
    }

    protected override void StopProcessing() => _sampler.Stop();

    public void Dispose()
    {
        _sampler.Dispose();
        _power.Dispose();
    }
}
