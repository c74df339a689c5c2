using System.Management.Automation;

namespace VmProbe.Commands;

/// <summary>
/// Read-VmPerfCounter: reads a running session (set Session), or opens counters for the piped domains,
/// waits -Duration, reads and closes them (set Domain). A session is read once, or repeatedly with -Continuous,
/// -SampleInterval or -MaxSamples (all the piped sessions per reading), each sample then with its Interval and Rate.
/// </summary>
[Cmdlet(VerbsCommunications.Read, "VmPerfCounter", DefaultParameterSetName = SessionSet)]
[Alias("Read-VmPerfCounters")]
[OutputType(typeof(VmPerfSample))]
public sealed class ReadVmPerfCounterCommand : ContinuousReaderCommand
{
    private const string SessionSet = "Session";
    private const string DomainSet = "Domain";

    private readonly List<VmDomain> _domains = new();
    private readonly List<VmPerfSession> _sessions = new();
    private DomainResolver? _resolver;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = SessionSet)]
    [ValidateNotNull]
    public VmPerfSession? Session { get; set; }

    /// <summary>
    /// Not mandatory: -IncludeHost alone counts the host (-Event, mandatory here, is what selects this set). Neither
    /// given is reported in EndProcessing.
    /// </summary>
    [Parameter(ValueFromPipeline = true, ParameterSetName = DomainSet)]
    [VmDomainTransformation]
    [ValidateNotNull]
    public VmDomain[]? Domain { get; set; }

    /// <summary>Where domain names and UUIDs given to -Domain are looked up; VmDomain objects keep their own.</summary>
    [Parameter(ParameterSetName = DomainSet)]
    [ValidateNotNullOrEmpty]
    public string Uri { get; set; } = DefaultUri;

    [Parameter(Mandatory = true, ParameterSetName = DomainSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PerfEventNameCompleter))]
    public string[] Event { get; set; } = Array.Empty<string>();

    /// <summary>How long to count before reading.</summary>
    [Parameter(ParameterSetName = DomainSet)]
    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(1);

    [Parameter(ParameterSetName = DomainSet)]
    public SwitchParameter IncludeHost { get; set; }

    // The sampling parameters apply to sessions only (the Domain set counts once for -Duration).
    [Parameter(ParameterSetName = SessionSet)]
    public override SwitchParameter Continuous { get; set; }

    [Parameter(ParameterSetName = SessionSet)]
    [ValidateSampleInterval]
    public override double SampleInterval { get; set; } = 1;

    [Parameter(ParameterSetName = SessionSet)]
    [ValidateRange(1, int.MaxValue)]
    public override int MaxSamples { get; set; } = 1;

    /// <summary>One sample per vCPU thread as well as per domain.</summary>
    [Parameter]
    public SwitchParameter PerVcpu { get; set; }

    protected override void BeginProcessing()
    {
        if (ParameterSetName == DomainSet && Duration <= TimeSpan.Zero)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create(
                "duration,invalid", ErrorCategory.InvalidArgument, $"-Duration must be positive, got {Duration}.", Duration));
        }
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == SessionSet)
        {
            if (ContinuousSampler.IsRequested(this))
            {
                _sessions.Add(Session!); // read together, every interval, in EndProcessing
            }
            else
            {
                ReadSession(Session!);
            }

            return;
        }

        _resolver ??= new DomainResolver(Uri, Log);
        ResolveDomains(Domain, _resolver, _domains);
    }

    protected override void EndProcessing()
    {
        if (ParameterSetName != DomainSet)
        {
            if (_sessions.Count > 0)
            {
                Sample(ReadSessions);
            }

            return;
        }

        if (!HasPerfTarget(_domains.Count, IncludeHost.IsPresent))
        {
            return;
        }

        try
        {
            var events = EventResolution.ResolveAtLeastOne(this, Event);
            WriteObject(TimedPerfCount.Count(this, Log, events, _domains, IncludeHost.IsPresent, Duration, PerVcpu.IsPresent, Sampler), enumerateCollection: true);
        }
        catch (Exception ex) when (ex is VmProbeException)
        {
            ThrowProbeError(ex, null);
        }
    }

    /// <summary>Waits -Duration with a progress bar; false when Ctrl-C stopped the command.</summary>
    private IEnumerable<object> ReadSessions(List<VmProbeException> errors)
    {
        var timestamp = DateTimeOffset.Now;
        var samples = new List<object>();
        foreach (var session in _sessions)
        {
            try
            {
                samples.AddRange(session.Read(PerVcpu.IsPresent, timestamp));
            }
            catch (VmProbeException ex)
            {
                errors.Add(ex);
            }
        }

        return samples;
    }

    private void ReadSession(VmPerfSession session)
    {
        try
        {
            WriteObject(session.Read(PerVcpu.IsPresent, DateTimeOffset.Now), enumerateCollection: true);
        }
        catch (VmProbeException ex)
        {
            WriteProbeError(ex, session);
        }
    }
}
