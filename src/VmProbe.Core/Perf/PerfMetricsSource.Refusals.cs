using System.Globalization;

namespace VmProbe.Perf;

/// <summary>
/// The perf source, part 4: targets it could not count this cycle, for a reason that repeats every cycle (domains or host
/// counters over the fd budget, new threads of a counted domain over it, a domain's cgroup that does not open). At a small
/// limit or on a host whose cgroups are not where perf expects them that is every VM of every cycle, so each kind of refusal
/// gets one summary line when its set of targets changes (and one when it is empty again), while
/// <c>probe_errors_total{source="perf"}</c> counts each refused target in each cycle, as the other parts a source could
/// not read are counted.
/// </summary>
internal sealed partial class PerfMetricsSource
{
    private const int NamesInSummary = 5;

    // The host counters as a refused target (they are not a domain, but are summarised and counted the same way).
    private static readonly DomainKey HostKey = new(Guid.Empty, "host", 0);

    private RefusalSet? budgetRefusals;
    private RefusalSet? threadRefusals;
    private RefusalSet? cgroupRefusals;
    private RefusalSet? hostRefusals;

    private RefusalSet BudgetRefusals => budgetRefusals ??= new RefusalSet(LogLevel.Error,
        "domain(s) are not counted, their perf fds do not fit the fd budget", BudgetAdvice,
        "no domain is refused for the open-file limit any more");

    private RefusalSet ThreadRefusals => threadRefusals ??= new RefusalSet(LogLevel.Error,
        "counted domain(s) have new threads that are not counted, their perf fds do not fit the fd budget", BudgetAdvice,
        "the new threads of every counted domain fit the open-file limit again");

    private RefusalSet CgroupRefusals => cgroupRefusals ??= new RefusalSet(LogLevel.Warning,
        "domain(s) are not counted, their cgroup cannot be counted (attribution: cgroup)",
        () => "Check that each domain's cgroup exists in the hierarchy perf_event is bound to (v1 perf_event when mounted, else v2) "
            + "and that vmprobe may open it (run as root), or set attribution: thread",
        "every domain's cgroup can be counted again");

    private RefusalSet HostRefusals => hostRefusals ??= new RefusalSet(LogLevel.Error,
        "host counters are not opened, their perf fds do not fit the fd budget", BudgetAdvice,
        "the host counters fit the open-file limit and are counted now", listNames: false);

    private IEnumerable<RefusalSet?> RefusalSets => new[] { hostRefusals, budgetRefusals, threadRefusals, cgroupRefusals };

    /// <summary>Starts a cycle: every refusal is found again or is gone.</summary>
    private void BeginRefusals()
    {
        foreach (var set in RefusalSets)
        {
            set?.BeginCycle();
        }
    }

    /// <summary>Logs each kind of refusal whose set changed since its last line, and counts each refused target in the cycle's errors.</summary>
    private void ReportRefusals(CycleContext context)
    {
        foreach (var set in RefusalSets)
        {
            set?.Report(log, context.ItemErrors);
        }
    }

    /// <summary>Remembers that <paramref name="domain"/> was not opened this cycle: <paramref name="what"/> need <paramref name="needed"/> fds.</summary>
    private void RefuseForBudget(DomainKey key, VmDomain domain, long needed, string what) =>
        BudgetRefusals.Add(key, domain.Name, $"{what} need {needed} fds", BudgetError(
            $"perf: domain '{domain.Name}' is not counted: {what} need {needed} perf fds, more than fit under RLIMIT_NOFILE {budget.Limit}", needed));

    private void RefuseThreads(DomainKey key, VmDomain domain, PerfFdBudgetExceededException error) =>
        ThreadRefusals.Add(key, domain.Name, error.Message, BudgetError(
            $"perf: domain '{domain.Name}': new threads are not counted: {error.Message}", error.NeededFds));

    private void RefuseCgroup(DomainKey key, VmDomain domain, string why, string errorId, ProbeErrorKind kind) =>
        CgroupRefusals.Add(key, domain.Name, $"cgroup {domain.PerfCgroupPath}: {why}", new VmProbeException(
            $"perf: domain '{domain.Name}' is not counted on cgroup {domain.PerfCgroupPath}: {why}", errorId, kind) { LoggedBySource = true });

    private void RefuseHost(long needed, string what) =>
        HostRefusals.Add(HostKey, "host", $"{what} need {needed} fds", BudgetError(
            $"perf: host counters not opened: {what} need {needed} perf fds, more than fit under RLIMIT_NOFILE {budget.Limit}", needed));

    private PerfFdBudgetExceededException BudgetError(string message, long needed) =>
        new(message, needed, budget.Limit) { LoggedBySource = true };

    private string BudgetAdvice()
    {
        var usable = (long)Math.Min(budget.Limit, long.MaxValue) - budget.ReservedFds;
        return string.Create(CultureInfo.InvariantCulture, $"The budget is {Math.Max(0, usable)}: RLIMIT_NOFILE is {budget.Limit}, less {budget.ReservedFds} kept for other files; {PerfFdBudget.OpenPerfFds} perf fds are open. ")
            + "Raise the open-file limit (LimitNOFILE= in the service unit, ulimit -n) or count fewer events";
    }

    /// <summary>One kind of refusal: the targets refused this cycle, and the set the last log line named.</summary>
    private sealed class RefusalSet
    {
        private readonly LogLevel level;
        private readonly string headline;
        private readonly Func<string> advice;
        private readonly string cleared;
        private readonly bool listNames;
        private readonly List<Refusal> now = new();
        private readonly HashSet<DomainKey> keysNow = new();
        private readonly HashSet<DomainKey> reported = new();

        public RefusalSet(LogLevel level, string headline, Func<string> advice, string cleared, bool listNames = true)
        {
            this.level = level;
            this.headline = headline;
            this.advice = advice;
            this.cleared = cleared;
            this.listNames = listNames;
        }

        public void BeginCycle()
        {
            now.Clear();
            keysNow.Clear();
        }

        public void Add(DomainKey key, string name, string detail, VmProbeException error)
        {
            if (keysNow.Add(key))
            {
                now.Add(new Refusal(name, detail, error));
            }
        }

        public void Report(IProbeLog log, ICollection<VmProbeException>? errors)
        {
            if (!keysNow.SetEquals(reported))
            {
                log.Write(now.Count == 0 ? LogLevel.Info : level, now.Count == 0
                    ? string.Create(CultureInfo.InvariantCulture, $"perf: {cleared} (the {reported.Count} refused before are counted or gone)")
                    : Summary());
                reported.Clear();
                reported.UnionWith(keysNow);
            }

            if (errors is not null)
            {
                foreach (var refusal in now)
                {
                    errors.Add(refusal.Error);
                }
            }
        }

        private string Summary()
        {
            var first = now[0];
            var what = listNames
                ? string.Create(CultureInfo.InvariantCulture, $"perf: {now.Count} {headline}: ")
                    + string.Join(", ", now.Take(NamesInSummary).Select(r => $"'{r.Name}'"))
                    + (now.Count > NamesInSummary ? string.Create(CultureInfo.InvariantCulture, $" and {now.Count - NamesInSummary} more") : string.Empty)
                    + $" (first: '{first.Name}': {first.Detail}). "
                : $"perf: {headline} ({first.Detail}). ";
            return what + advice() + "; this line is repeated only when the set of refused targets changes.";
        }

        private readonly record struct Refusal(string Name, string Detail, VmProbeException Error);
    }
}
