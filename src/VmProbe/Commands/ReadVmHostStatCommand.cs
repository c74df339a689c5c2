using System.Management.Automation;
using VmProbe.Procfs;

namespace VmProbe.Commands;

/// <summary>Read-VmHostStat: host-wide procfs statistics (CPU time, memory, scheduler) as flat samples, once or repeatedly.</summary>
[Cmdlet(VerbsCommunications.Read, "VmHostStat")]
[OutputType(typeof(VmStatSample))]
public sealed class ReadVmHostStatCommand : VmProbeCmdlet, IDisposable
{
    private readonly ContinuousSampler _sampler = new();

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
            _sampler.Run(this, Continuous.IsPresent, SampleInterval, MaxSamples, errors => HostStatReader.Read(DateTimeOffset.Now, Log, errors));
        }
        catch (Exception ex) when (ex is VmProbeException)
        {
            ThrowProbeError(ex, null);
        }
    }

    protected override void StopProcessing() => _sampler.Stop();

    public void Dispose() => _sampler.Dispose();
}
