using System.Management.Automation;
using VmProbe.Kvm.Exits;

namespace VmProbe.Commands;

/// <summary>
/// Measure-VmKvmExit: <c>perf kvm stat live</c> for the piped domains: counts VM exits by reason for -Duration (again and
/// again with -Continuous) with the tracer the runner would use (eBPF, else perf-filtered kvm:kvm_exit), and outputs one
/// <see cref="VmKvmExitStat"/> per domain and reason, each domain's reasons by count, most first.
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "VmKvmExit")]
[OutputType(typeof(VmKvmExitStat))]
public sealed class MeasureVmKvmExitCommand : VmProbeCmdlet, IDisposable
{
    private readonly DomainSelection _selection = new();
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>The domains to measure; every running domain at -Uri when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true)]
    [VmDomainTransformation]
    [ValidateNotNull]
    public VmDomain[]? Domain { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Uri { get; set; } = DefaultUri;

    /// <summary>How long each measurement lasts.</summary>
    [Parameter]
    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>One measurement after the other until Ctrl+C.</summary>
    [Parameter]
    public SwitchParameter Continuous { get; set; }

    /// <summary>The reasons the perf-filter fallback counts (as kvmexitreasons); its defaults when omitted.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Reason { get; set; }

    protected override void BeginProcessing()
    {
        if (Duration <= TimeSpan.Zero)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create("duration,invalid", ErrorCategory.InvalidArgument, $"-Duration must be positive, got {Duration}.", Duration));
        }
    }

    protected override void ProcessRecord() => SelectDomains(Domain, Uri, _selection);

    protected override void EndProcessing()
    {
        var domains = SelectedDomains(_selection, Uri);
        if (domains.Count == 0)
        {
            return;
        }

        KvmExitMeasurement measurement;
        try
        {
            measurement = KvmExitMeasurement.Open(Reason, Log);
        }
        catch (VmProbeException ex)
        {
            ThrowProbeError(ex, null);
            return;
        }

        using (measurement)
        {
            WriteVerbose($"kvmexits: {measurement.Description}");
            measurement.Start(domains);
            do
            {
                if (_stopping.Token.WaitHandle.WaitOne(Duration))
                {
                    return;
                }

                WriteObject(measurement.Next(), enumerateCollection: true);
            }
            while (Continuous.IsPresent);
        }
    }

    protected override void StopProcessing() => _stopping.Cancel();

    public void Dispose() => _stopping.Dispose();
}
