using System.Diagnostics;
using System.Management.Automation;
using VmProbe.Prometheus;

namespace VmProbe.Commands;

/// <summary>
/// Get-Counter's sampling for the Read-* cmdlets (-Continuous, -SampleInterval, -MaxSamples): without them one reading,
/// as before; with any of them readings on a grid of -SampleInterval seconds (a reading that overruns the interval is not
/// followed by a burst), -MaxSamples of them or, with -Continuous alone, until Ctrl+C. Every reading's samples get
/// Interval and Rate from <see cref="SampleRateTracker"/> and are written as soon as they are read. The wait between
/// readings ends at once when the command is stopped (<see cref="Stop"/> from StopProcessing); what the reading opened
/// is the read delegate's to close.
/// </summary>
internal sealed class ContinuousSampler : IDisposable
{
    public const string ContinuousParameter = "Continuous";
    public const string SampleIntervalParameter = "SampleInterval";
    public const string MaxSamplesParameter = "MaxSamples";

    private readonly CancellationTokenSource _stopping = new();
    private readonly SampleRateTracker _rates = new();

    /// <summary>Signalled when the command is stopped (Ctrl+C, PowerShell.Stop).</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>True when the command was given -Continuous, -SampleInterval or -MaxSamples.</summary>
    public static bool IsRequested(PSCmdlet cmdlet)
    {
        var bound = cmdlet.MyInvocation.BoundParameters;
        return bound.ContainsKey(ContinuousParameter) && ((SwitchParameter)bound[ContinuousParameter]).IsPresent
            || bound.ContainsKey(SampleIntervalParameter) || bound.ContainsKey(MaxSamplesParameter);
    }

    public void Stop() => _stopping.Cancel();

    public void Dispose() => _stopping.Dispose();

    /// <summary>Waits <paramref name="time"/>; false when the command was stopped meanwhile.</summary>
    public bool Wait(TimeSpan time) => time <= TimeSpan.Zero ? !Stopping.IsCancellationRequested : !Stopping.WaitHandle.WaitOne(time);

    /// <summary>
    /// Takes the readings the command asked for. <paramref name="read"/> reads once into the samples it returns and the
    /// per-item errors it adds to its list, written after the samples as non-terminating errors; it throws to end the command.
    /// </summary>
    public void Run(PSCmdlet cmdlet, bool continuous, double sampleInterval, int maxSamples, Func<List<VmProbeException>, IEnumerable<object>> read)
    {
        if (!IsRequested(cmdlet))
        {
            ReadOnce(cmdlet, read, null);
            return;
        }

        long limit = cmdlet.MyInvocation.BoundParameters.ContainsKey(MaxSamplesParameter) ? maxSamples : continuous ? long.MaxValue : 1;
        var interval = TimeSpan.FromSeconds(sampleInterval);
        var clock = Stopwatch.StartNew();
        var due = TimeSpan.Zero;
        for (long n = 0; n < limit && !Stopping.IsCancellationRequested; n++)
        {
            if (n > 0)
            {
                due += interval;
                if (due < clock.Elapsed)
                {
                    due = clock.Elapsed; // overran: read now and keep the interval from here
                }

                if (!Wait(due - clock.Elapsed))
                {
                    return;
                }
            }

            ReadOnce(cmdlet, read, clock.Elapsed);
        }
    }

    private void ReadOnce(PSCmdlet cmdlet, Func<List<VmProbeException>, IEnumerable<object>> read, TimeSpan? readAt)
    {
        var errors = new List<VmProbeException>();
        var samples = read(errors).ToList();
        if (readAt is { } at)
        {
            _rates.Apply(samples, at);
        }

        cmdlet.WriteObject(samples, enumerateCollection: true);
        foreach (var error in errors)
        {
            cmdlet.WriteError(ErrorRecordFactory.FromException(error, null));
        }
    }
}

/// <summary>-SampleInterval: a positive number of seconds, at most a day; the error names the parameter.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateSampleIntervalAttribute : ValidateArgumentsAttribute
{
    public const double MaxSeconds = 86400;

    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        if (arguments is not double seconds || double.IsNaN(seconds) || seconds <= 0 || seconds > MaxSeconds)
        {
            throw new ValidationMetadataException(
                $"-SampleInterval must be a number of seconds greater than 0 and at most {MaxSeconds} (a day), got {arguments}.");
        }
    }
}
