using System.Globalization;
using VmProbe.Config;
using VmProbe.Perf;

namespace VmProbe.GuestApi;

/// <summary>One counter line of a reply: an event on the domain (Vcpu null) or on one vCPU thread.</summary>
public readonly record struct GuestCount(string Event, int? Vcpu, double Value, double Scaling);

/// <summary>
/// A guest session's counters: the perf engine's own per-domain source (<see cref="PerfSourceSession"/>, thread
/// attribution) on that one domain, so event names, scaling and the per-vCPU split are those of Read-VmPerfCounter and
/// the runner's perf series. Opened within the process-wide fd budget; not thread-safe (one session task uses it).
/// </summary>
internal sealed class GuestCounters : IDisposable
{
    private readonly PerfSourceSession session;
    private readonly int? vcpu;

    private GuestCounters(PerfSourceSession session, int? vcpu, IReadOnlyList<PerfEventState> states)
    {
        this.session = session;
        this.vcpu = vcpu;
        Events = states;
    }

    /// <summary>The requested events and whether each counts on this host.</summary>
    public IReadOnlyList<PerfEventState> Events { get; }

    public int OpenFds => session.OpenFds;

    public static GuestCounters Open(GuestRequest request, VmDomain domain, PerfFdBudget budget)
    {
        var events = new List<PerfEventSpec>(request.Events.Count);
        foreach (var name in request.Events)
        {
            if (!PerfEventCatalog.TryParse(name, bareNumberIsTracepoint: false, out var spec, out var error))
            {
                throw new GuestApiRefusedException(GuestRefusalReason.InvalidRequest, $"events: {error}");
            }

            if (!events.Any(e => e.CanonicalName == spec!.CanonicalName))
            {
                events.Add(spec!);
            }
        }

        if (request.Vcpu is { } index && !domain.Vcpus.Any(v => v.Index == index && v.ThreadId > 0))
        {
            var known = domain.Vcpus.Where(v => v.ThreadId > 0).Select(v => v.Index.ToString(CultureInfo.InvariantCulture)).ToList();
            throw new GuestApiRefusedException(GuestRefusalReason.InvalidRequest,
                $"vcpu {index}: domain '{domain.Name}' has {(known.Count == 0 ? "no vCPU thread the host knows" : "vCPUs " + string.Join(", ", known))}");
        }

        // The engine refuses over-budget domains by logging; the guest gets the same check up front, as a refusal.
        var threads = CountThreads(domain.Pid);
        var needed = PerfFdBudget.Estimate(events.Count, Math.Max(threads, 1));
        if (!budget.Fits(needed))
        {
            throw new GuestApiRefusedException(GuestRefusalReason.FdBudget,
                $"{events.Count} events on the domain's {threads} threads need {needed} perf fds, more than the host's fd budget has free now");
        }

        var errors = new List<VmProbeException>();
        PerfSourceSession session;
        try
        {
            session = PerfSourceSession.Open(events, new[] { domain }, includeHost: false, PerfAttribution.Thread, perCpu: false, errors, NullProbeLog.Instance, budget);
        }
        catch (PerfFdBudgetExceededException ex)
        {
            throw new GuestApiRefusedException(GuestRefusalReason.FdBudget, ex.Message, ex);
        }

        if (session.IsEmpty || session.OpenFds == 0)
        {
            session.Dispose();
            var why = errors.Count > 0 ? string.Join("; ", errors.Take(3).Select(e => e.Message)) : "no event counts on its threads";
            throw new GuestApiRefusedException(
                session.IsEmpty ? GuestRefusalReason.DomainNotRunning : GuestRefusalReason.EventUnavailable,
                $"nothing can be counted for domain '{domain.Name}': {why}");
        }

        return new GuestCounters(session, request.Vcpu, session.EventStates);
    }

    /// <summary>Cumulative counts since opening: the domain's (unless one vCPU was asked for) and each vCPU's.</summary>
    public List<GuestCount> Read()
    {
        var counts = new List<GuestCount>();
        foreach (var sample in session.Read(perVcpu: true, DateTimeOffset.UtcNow))
        {
            var keep = vcpu is { } only ? sample.Scope == VmSampleScope.Vcpu && sample.Vcpu == only : sample.Scope is VmSampleScope.Domain or VmSampleScope.Vcpu;
            if (keep)
            {
                counts.Add(new GuestCount(sample.Event, sample.Scope == VmSampleScope.Vcpu ? sample.Vcpu : null, sample.Value, sample.ScalingRatio));
            }
        }

        return counts;
    }

    public void Dispose() => session.Dispose();

    private static int CountThreads(int pid)
    {
        try
        {
            return Directory.EnumerateDirectories("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/task").Count();
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
