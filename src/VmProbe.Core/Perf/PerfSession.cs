namespace VmProbe.Perf;

/// <summary>
/// One list of events counted on a set of targets (host, cgroups, threads). Counts are cumulative and never reset.
/// Not thread-safe: one collector thread calls Add/Remove/Read.
/// </summary>
internal sealed class PerfSession : IDisposable
{
    private readonly Dictionary<PerfTarget, PerfCounterSet> sets = new();
    private readonly PerfFdBudget? budget;
    private int cpuCount = -1;

    public PerfSession(IReadOnlyList<PerfEventSpec> events, PerfOpenOptions? options = null, PerfFdBudget? budget = null)
    {
        Events = events ?? throw new ArgumentNullException(nameof(events));
        Options = options ?? PerfOpenOptions.Default;
        this.budget = budget;
    }

    public IReadOnlyList<PerfEventSpec> Events { get; }

    public PerfOpenOptions Options { get; }

    public IReadOnlyCollection<PerfCounterSet> CounterSets => sets.Values;

    /// <summary>Opens events x targets at once; the fd budget (if given) is checked for the whole set first.</summary>
    public static PerfSession Open(IReadOnlyList<PerfEventSpec> events, IEnumerable<PerfTarget> targets, PerfOpenOptions? options = null, PerfFdBudget? budget = null)
    {
        var session = new PerfSession(events, options, budget);
        try
        {
            var list = targets.ToList();
            var perCpu = list.Count(t => t.IsPerCpu);
            budget?.EnsureFits(
                PerfFdBudget.Estimate(events.Count, perCpu, session.CpuCount) + PerfFdBudget.Estimate(events.Count, list.Count - perCpu),
                $"{events.Count} perf events on {list.Count} targets");
            foreach (var target in list)
            {
                session.Add(target);
            }

            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Opens the events on <paramref name="target"/> (or returns the set already open for it).</summary>
    public PerfCounterSet Add(PerfTarget target)
    {
        if (sets.TryGetValue(target, out var existing))
        {
            return existing;
        }

        budget?.EnsureFits(PerfFdBudget.Estimate(Events.Count, 1, target.IsPerCpu ? CpuCount : 1), $"{Events.Count} perf events on {target}");
        var set = PerfCounterSet.Open(target, Events, Options);
        sets.Add(target, set);
        return set;
    }

    /// <summary>Closes and forgets a target's counters.</summary>
    public bool Remove(PerfTarget target)
    {
        if (!sets.Remove(target, out var set))
        {
            return false;
        }

        set.Dispose();
        return true;
    }

    public bool TryGet(PerfTarget target, out PerfCounterSet set) => sets.TryGetValue(target, out set!);

    /// <summary>Reads every target (one read() per group). Thread targets that vanished keep their last counts (see <see cref="PerfCounterSet.IsGone"/>).</summary>
    public void Read()
    {
        foreach (var set in sets.Values)
        {
            set.Read();
        }
    }

    /// <summary>The last read's totals, per target per event (supported events only).</summary>
    public IEnumerable<PerfReading> GetReadings()
    {
        foreach (var set in sets.Values)
        {
            for (var e = 0; e < Events.Count; e++)
            {
                if (set.Status[e].Supported)
                {
                    yield return new PerfReading(set.Target, Events[e], set.GetTotal(e));
                }
            }
        }
    }

    public void Dispose()
    {
        foreach (var set in sets.Values)
        {
            set.Dispose();
        }

        sets.Clear();
    }

    private int CpuCount => cpuCount >= 0 ? cpuCount : cpuCount = CpuList.ReadOnline().Length;
}
