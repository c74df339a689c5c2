namespace VmProbe.Power;

/// <summary>How a cycle's energy was divided among domains (the <c>model</c> label of <c>host_energy_model_info</c>).</summary>
internal enum AttributionModel
{
    /// <summary>Neither cycles nor CPU time could be measured for the interval: everything stays unattributed.</summary>
    None,

    /// <summary>The domain's share of host CPU cycles (perf cycles counted for the host and every domain).</summary>
    Cycles,

    /// <summary>The domain's share of host busy CPU time (what Kepler and Scaphandre do).</summary>
    CpuTime,
}

/// <summary>
/// The energy model (README, "Power"): per interval and zone, the host's increase <c>E</c> over <c>t</c> seconds (the
/// meter's own reading times) is split into idle energy <c>min(E, P_idle t)</c>, kept apart, and dynamic energy
/// <c>E - idle</c>, of which each domain gets its share of the interval's host activity: cycles where perf counted
/// cycles for the host and every domain, else busy CPU time. <c>P_idle</c> is <see cref="IdleFit"/>'s intercept of
/// power against the host's busy fraction; while it is unknown nothing is taken as idle. The shares are clamped to
/// [0, 1] and scaled down when they sum above 1 (readings a few microseconds apart). Whatever is not given to a domain,
/// including a zone's first reading (energy counted before the probe started) and the energy of a domain that left,
/// is unattributed, so that for each zone the sum over the listed domains plus the unattributed energy equals the
/// host's counter at every cycle.
/// </summary>
internal sealed class EnergyAttribution
{
    private readonly Dictionary<Guid, (double Cpu, double? Cycles)> _previous = new();
    private readonly Dictionary<string, ZoneState> _zones = new(StringComparer.Ordinal);
    private double? _previousHostBusy;
    private double? _previousHostCycles;
    private double? _previousHostTotal;
    private double? _busyFraction;
    private readonly Dictionary<Guid, double> _shares = new();

    public AttributionModel Model { get; private set; }

    public IReadOnlyDictionary<string, ZoneState> Zones => _zones;

    /// <summary>Works out this interval's shares from the cycle's activity (null: none measured) for the domains listed.</summary>
    public void BeginInterval(DomainActivityShare? activity, IReadOnlyList<VmDomain> domains)
    {
        _shares.Clear();
        Model = AttributionModel.None;
        if (activity is null)
        {
            _previous.Clear();
            _previousHostBusy = _previousHostCycles = _previousHostTotal = null;
            _busyFraction = null;
            return;
        }

        var hostCycles = Delta(activity.HostCycles, _previousHostCycles);
        var hostBusy = Delta(activity.HostBusySeconds, _previousHostBusy);
        var hostTotal = Delta(activity.HostTotalSeconds, _previousHostTotal);
        _busyFraction = hostTotal > 0 && _previousHostBusy is not null && activity.HostBusySeconds is not null ? hostBusy / hostTotal : null;
        var byCycles = hostCycles > 0 && domains.Count > 0;
        foreach (var domain in domains)
        {
            var previous = _previous.TryGetValue(domain.Uuid, out var p) ? p : ((double Cpu, double? Cycles)?)null;
            if (activity.Cycles(domain.Uuid) is null || previous?.Cycles is null)
            {
                byCycles = false;
            }
        }

        var total = 0.0;
        foreach (var domain in domains)
        {
            if (!_previous.TryGetValue(domain.Uuid, out var previous))
            {
                continue;
            }

            double? share = byCycles
                ? Delta(activity.Cycles(domain.Uuid), previous.Cycles) / hostCycles
                : hostBusy > 0 ? Delta(activity.CpuSeconds(domain.Uuid), previous.Cpu) / hostBusy : null;
            if (share is { } s && double.IsFinite(s))
            {
                _shares[domain.Uuid] = Math.Clamp(s, 0, 1);
                total += _shares[domain.Uuid];
            }
        }

        if (total > 1)
        {
            foreach (var uuid in _shares.Keys.ToList())
            {
                _shares[uuid] /= total;
            }
        }

        Model = byCycles ? AttributionModel.Cycles : hostBusy > 0 ? AttributionModel.CpuTime : AttributionModel.None;
        _previous.Clear();
        foreach (var domain in domains)
        {
            if (activity.CpuSeconds(domain.Uuid) is { } cpu)
            {
                _previous[domain.Uuid] = (cpu, activity.Cycles(domain.Uuid));
            }
        }

        _previousHostBusy = activity.HostBusySeconds;
        _previousHostCycles = activity.HostCycles;
        _previousHostTotal = activity.HostTotalSeconds;
    }

    /// <summary>Divides a zone's increase (<paramref name="joules"/> over <paramref name="seconds"/>); <paramref name="first"/> is a first reading's whole count.</summary>
    public ZoneState Add(string zone, string source, double joules, double seconds, bool first, double firstTotal)
    {
        if (!_zones.TryGetValue(zone, out var state))
        {
            state = new ZoneState(source);
            _zones.Add(zone, state);
        }

        if (first)
        {
            state.Unattributed += firstTotal;
            return state;
        }

        if (seconds > 0)
        {
            state.Idle.Add(joules / seconds, _busyFraction);
        }

        var dynamic = Math.Max(0, joules - (state.IdleWatts ?? 0) * seconds);
        var given = 0.0;
        foreach (var (uuid, share) in _shares)
        {
            var part = dynamic * share;
            state.Domains[uuid] = state.Domains.GetValueOrDefault(uuid) + part;
            given += part;
        }

        state.Unattributed += joules - given;
        return state;
    }

    /// <summary>
    /// Moves the energy of the domains no longer listed into the unattributed total (their series end; the identity
    /// still holds over the domains listed). A zone not read this cycle keeps its state, as its counter keeps its total.
    /// </summary>
    public void Forget(IReadOnlyList<VmDomain> domains)
    {
        var listed = domains.Select(d => d.Uuid).ToHashSet();
        foreach (var state in _zones.Values)
        {
            foreach (var uuid in state.Domains.Keys.Where(u => !listed.Contains(u)).ToList())
            {
                state.Unattributed += state.Domains[uuid];
                state.Domains.Remove(uuid);
            }
        }
    }

    private static double Delta(double? now, double? before) => now is { } n && before is { } b && n >= b ? n - b : 0;

    /// <summary>One zone's division so far: the source it follows, its idle estimate, and the joules per domain and unattributed.</summary>
    internal sealed class ZoneState
    {
        public ZoneState(string source) => Source = source;

        public string Source { get; }

        public IdleFit Idle { get; } = new();

        /// <summary>The idle power the model takes (null: unknown, nothing taken as idle).</summary>
        public double? IdleWatts => Idle.IdleWatts;

        public double Unattributed { get; set; }

        public Dictionary<Guid, double> Domains { get; } = new();
    }
}
