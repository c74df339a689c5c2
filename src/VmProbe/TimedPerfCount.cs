using System.Diagnostics;
using System.Management.Automation;
using VmProbe.Config;
using VmProbe.Perf;

namespace VmProbe.Commands;

/// <summary>
/// Read-VmPerfCounter's Domain set: opens counters on the domains (and the host), lets them count for a duration
/// while showing progress, reads them once and closes them, whatever happens (Ctrl+C included).
/// </summary>
internal static class TimedPerfCount
{
    private const int ProgressActivityId = 0x766d70; // stable per command so nested progress bars do not collide

    /// <summary>The samples, or none when nothing could be opened or the wait was stopped; per-item errors are written.</summary>
    public static IReadOnlyList<VmPerfSample> Count(
        VmProbeCmdlet cmdlet, CmdletProbeLog log, IReadOnlyList<PerfEventSpec> events, IReadOnlyList<VmDomain> domains, bool includeHost,
        TimeSpan duration, bool perVcpu, ContinuousSampler sampler)
    {
        var errors = new List<VmProbeException>();
        var counters = PerfSourceSession.Open(events, domains, includeHost, PerfAttribution.Thread, perCpu: false, errors, log, ModuleState.PerfBudget);
        using var session = new VmPerfSession(counters, events.Select(e => e.CanonicalName).ToArray());
        foreach (var error in errors)
        {
            cmdlet.WriteError(ErrorRecordFactory.FromException(error, null));
        }

        // Nothing opened (each domain's error written above): no wait for nothing.
        return !counters.IsEmpty && Wait(cmdlet, duration, sampler, $"{domains.Count} domain(s), {events.Count} event(s)")
            ? session.Read(perVcpu, DateTimeOffset.Now)
            : Array.Empty<VmPerfSample>();
    }

    private static bool Wait(Cmdlet cmdlet, TimeSpan duration, ContinuousSampler sampler, string what)
    {
        var clock = Stopwatch.StartNew();
        var progress = new ProgressRecord(ProgressActivityId, "Counting perf events", what);
        while (clock.Elapsed < duration)
        {
            var remaining = duration - clock.Elapsed;
            progress.PercentComplete = (int)Math.Clamp(100 * clock.Elapsed.Ticks / duration.Ticks, 0, 100);
            progress.SecondsRemaining = (int)Math.Ceiling(remaining.TotalSeconds);
            cmdlet.WriteProgress(progress);
            if (!sampler.Wait(remaining < TimeSpan.FromMilliseconds(250) ? remaining : TimeSpan.FromMilliseconds(250)))
            {
                return false;
            }
        }

        progress.RecordType = ProgressRecordType.Completed;
        cmdlet.WriteProgress(progress);
        return true;
    }
}
