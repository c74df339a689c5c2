using System.Collections.Concurrent;

namespace VmProbe.Perf;

/// <summary>
/// Whether this host can open each event: the event is opened once on this process's main thread and closed, and the
/// answer cached for the process's lifetime (PMUs do not change while it runs). Thread-safe.
/// </summary>
public static class PerfEventSupport
{
    private static readonly ConcurrentDictionary<string, PerfEventStatus> Cache = new(StringComparer.Ordinal);

    /// <summary>The catalog (<see cref="PerfEventCatalog.All"/>) with support probed on this host.</summary>
    public static IReadOnlyList<VmPerfEventInfo> ListCatalog()
    {
        var infos = new List<VmPerfEventInfo>(PerfEventCatalog.All.Count);
        foreach (var entry in PerfEventCatalog.All)
        {
            var status = Probe(entry.ToSpec());
            infos.Add(new VmPerfEventInfo
            {
                Name = entry.CanonicalName,
                Kind = entry.Kind,
                Aliases = entry.Aliases,
                Description = entry.Description,
                Supported = status.Supported,
                Reason = status.Supported ? null : status.ErrnoName is { } errno ? $"{errno}: {status.Reason}" : status.Reason,
            });
        }

        return infos;
    }

    /// <summary>
    /// Opens <paramref name="spec"/> once (tracepoints named subsystem:name are resolved first) and reports whether it
    /// counts here. Never throws for an unsupported event; the status says why.
    /// </summary>
    /// <summary>Tracepoints of the mounted tracefs named <c>subsystem:name</c> starting with <paramref name="prefix"/> (for -Event completion).</summary>
    public static IReadOnlyList<string> ListTracepoints(string prefix, int max = 200) => TracepointResolver.List(prefix, max);

    public static PerfEventStatus Probe(PerfEventSpec spec) => Cache.GetOrAdd(spec.CanonicalName, static (_, s) => ProbeUncached(s), spec);

    /// <summary>A tracepoint spec given by name with its tracefs id filled in; other specs as they are. Throws <see cref="TracepointException"/>.</summary>
    public static PerfEventSpec ResolveTracepoint(PerfEventSpec spec) =>
        spec is { Kind: PerfEventKind.Tracepoint, TracepointName: { } name, Config: 0 }
            ? spec with { Config = TracepointResolver.Resolve(name) }
            : spec;

    private static PerfEventStatus ProbeUncached(PerfEventSpec spec)
    {
        PerfEventSpec resolved;
        try
        {
            resolved = ResolveTracepoint(spec);
        }
        catch (TracepointException ex)
        {
            return new PerfEventStatus(spec, false, 0, ex.Message);
        }

        try
        {
            using var set = PerfCounterSet.Open(PerfTarget.Thread(Environment.ProcessId), new[] { resolved });
            var status = set.Status[0];
            return status with { Event = spec };
        }
        catch (PerfEventException ex)
        {
            return new PerfEventStatus(spec, false, ex.Errno, ex.Message);
        }
    }
}
