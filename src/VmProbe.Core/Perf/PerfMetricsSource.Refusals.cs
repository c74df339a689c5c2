using System.Globalization;

namespace VmProbe.Perf;

/// <summary>
/// The perf source, part 4: domains refused because their perf fds do not fit under the open-file limit. At a small
/// limit that is every new VM of every cycle, so the log gets one summary line when the set of refused domains changes
/// (and one when none is refused any more), while <c>probe_errors_total{source="perf"}</c> counts each refused domain in
/// each cycle, as the other parts a source could not read are counted.
/// </summary>
internal sealed partial class PerfMetricsSource
{
    private const int NamesInSummary = 5;

    private readonly List<Refusal> refusedThisCycle = new();
    private readonly HashSet<DomainKey> refusedNow = new();
    private readonly HashSet<DomainKey> refusedReported = new();

    /// <summary>Remembers that <paramref name="domain"/> was not opened this cycle: <paramref name="what"/> need <paramref name="needed"/> fds.</summary>
    private void RefuseForBudget(DomainKey key, VmDomain domain, long needed, string what) =>
        refusedThisCycle.Add(new Refusal(key, domain.Name, needed, what));

    /// <summary>Logs the refused set when it changed since the last line, and counts each refused domain in the cycle's errors.</summary>
    private void ReportRefused(CycleContext context)
    {
        refusedNow.Clear();
        foreach (var refusal in refusedThisCycle)
        {
            refusedNow.Add(refusal.Key);
        }

        if (!refusedNow.SetEquals(refusedReported))
        {
            if (refusedNow.Count == 0)
            {
                log.Write(LogLevel.Info, string.Create(CultureInfo.InvariantCulture,
                    $"perf: no domain is refused for the open-file limit any more (the {refusedReported.Count} refused before are counted or gone)"));
            }
            else
            {
                log.Write(LogLevel.Error, Summary());
            }

            refusedReported.Clear();
            refusedReported.UnionWith(refusedNow);
        }

        if (context.ItemErrors is { } errors)
        {
            foreach (var refusal in refusedThisCycle)
            {
                errors.Add(new PerfFdBudgetExceededException(
                    $"perf: domain '{refusal.Name}' is not counted: {refusal.What} need {refusal.Needed} perf fds, more than fit under RLIMIT_NOFILE {budget.Limit}",
                    refusal.Needed, budget.Limit) { LoggedBySource = true });
            }
        }
    }

    private string Summary()
    {
        var names = string.Join(", ", refusedThisCycle.Take(NamesInSummary).Select(r => $"'{r.Name}'"));
        var more = refusedThisCycle.Count > NamesInSummary ? $" and {refusedThisCycle.Count - NamesInSummary} more" : string.Empty;
        var first = refusedThisCycle[0];
        var usable = (long)Math.Min(budget.Limit, long.MaxValue) - budget.ReservedFds;
        var inv = CultureInfo.InvariantCulture;
        return string.Create(inv, $"perf: {refusedThisCycle.Count} domain(s) are not counted, their perf fds do not fit the fd budget: {names}{more} (first: '{first.Name}': {first.What} need {first.Needed} fds). ")
            + string.Create(inv, $"The budget is {Math.Max(0, usable)}: RLIMIT_NOFILE is {budget.Limit}, less {budget.ReservedFds} kept for other files; {PerfFdBudget.OpenPerfFds} perf fds are open. ")
            + "Raise the open-file limit (LimitNOFILE= in the service unit, ulimit -n) or count fewer events; this line is repeated only when the set of refused domains changes.";
    }

    private readonly record struct Refusal(DomainKey Key, string Name, long Needed, string What);
}
