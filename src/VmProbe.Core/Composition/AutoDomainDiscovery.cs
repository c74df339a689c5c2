namespace VmProbe.Composition;

/// <summary>
/// <c>discovery: auto</c>: domains from the preferred discovery (libvirt) while it answers, from the fallback (the /proc
/// scan for QEMU processes) while it fails. The preferred one is tried again every cycle. Each switch is logged once:
/// a Warning when falling back, an Info when the preferred discovery answers again. The preferred discovery's failure
/// is not rethrown (the fallback's domains are used) but counted: the cycle takes it as a part that failed
/// (<see cref="IPartlyFailing"/>); only a failing fallback escapes. The cycle's shared state goes to both, so that the
/// fallback shares its thread listings and CPU hints with the sources as <c>discovery: process</c> does.
/// </summary>
internal sealed class AutoDomainDiscovery : IDomainDiscovery, IDiscoveryConflicts, IPartlyFailing, IDiscoveryWarmUp, ISharesCycleState, IDisposable
{
    public const string SourceName = "discovery";

    private readonly IDomainDiscovery _preferred;
    private readonly IDomainDiscovery _fallback;
    private bool? _usingFallback;
    private Exception? _lastFailure;
    private CycleState? _shared;

    public AutoDomainDiscovery(IDomainDiscovery preferred, IDomainDiscovery fallback)
    {
        _preferred = preferred ?? throw new ArgumentNullException(nameof(preferred));
        _fallback = fallback ?? throw new ArgumentNullException(nameof(fallback));
    }

    public string Name => SourceName;

    /// <inheritdoc/>
    public CycleState? Shared
    {
        get => _shared;
        set
        {
            _shared = value;
            foreach (var discovery in new[] { _preferred, _fallback })
            {
                if (discovery is ISharesCycleState sharing)
                {
                    sharing.Shared ??= value;
                }
            }
        }
    }

    /// <inheritdoc/>
    public long Conflicts => ((_preferred as IDiscoveryConflicts)?.Conflicts ?? 0) + ((_fallback as IDiscoveryConflicts)?.Conflicts ?? 0);

    /// <summary>The discovery that found the domains of the last cycle (null before the first).</summary>
    public IDomainDiscovery? Current => _usingFallback switch
    {
        true => _fallback,
        false => _preferred,
        null => null,
    };

    /// <inheritdoc/>
    public void WarmUp() => (Current as IDiscoveryWarmUp)?.WarmUp();

    public IReadOnlyList<VmDomain> Discover(IProbeLog log, CancellationToken cancellationToken)
    {
        IReadOnlyList<VmDomain> domains;
        try
        {
            domains = _preferred.Discover(log, cancellationToken);
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (_usingFallback != true)
            {
                log.Write(LogLevel.Warning,
                    $"domain discovery: {_preferred.Name} failed ({FailureText.Describe(error)}); finding domains with {_fallback.Name} until it answers again");
                _usingFallback = true;
            }
            else if (log.IsEnabled(LogLevel.Debug))
            {
                log.Write(LogLevel.Debug, $"domain discovery: {_preferred.Name} still failing ({FailureText.Describe(error)}); using {_fallback.Name}");
            }

            _lastFailure = error;
            return _fallback.Discover(log, cancellationToken);
        }

        if (_usingFallback == true)
        {
            log.Write(LogLevel.Info, $"domain discovery: {_preferred.Name} answers again; finding domains with it");
        }

        _usingFallback = false;
        return domains;
    }

    /// <inheritdoc/>
    public Exception? TakeFailure()
    {
        var failure = _lastFailure;
        _lastFailure = null;
        return failure;
    }

    public void Dispose()
    {
        (_preferred as IDisposable)?.Dispose();
        (_fallback as IDisposable)?.Dispose();
    }
}
