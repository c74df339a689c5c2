using System.Management.Automation;

namespace VmProbe.Commands;

/// <summary>
/// The Read-* cmdlets that read once or repeatedly (Get-Counter's -Continuous, -SampleInterval, -MaxSamples): the three
/// parameters, the <see cref="ContinuousSampler"/> taking the readings, Ctrl+C ending its wait, and its disposal. A
/// cmdlet that offers them in one parameter set only overrides the three properties with that set's attributes.
/// </summary>
public abstract class ContinuousReaderCommand : VmProbeCmdlet, IDisposable
{
    private protected ContinuousSampler Sampler { get; } = new();

    /// <summary>Read until stopped (Ctrl+C), every -SampleInterval seconds (or -MaxSamples readings).</summary>
    [Parameter]
    public virtual SwitchParameter Continuous { get; set; }

    /// <summary>Seconds between readings.</summary>
    [Parameter]
    [ValidateSampleInterval]
    public virtual double SampleInterval { get; set; } = 1;

    /// <summary>How many readings to take.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public virtual int MaxSamples { get; set; } = 1;

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Takes the readings the parameters ask for (<see cref="ContinuousSampler.Run"/>).</summary>
    private protected void Sample(Func<List<VmProbeException>, IEnumerable<object>> read) =>
        Sampler.Run(this, Continuous.IsPresent, SampleInterval, MaxSamples, read);

    protected override void StopProcessing() => Sampler.Stop();

    /// <summary>Releases the sampler; a cmdlet holding more overrides this and calls it.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            Sampler.Dispose();
        }
    }
}
