namespace VmProbe.Perf;

/// <summary>A perf event name the catalog does not know; <see cref="Suggestions"/> holds the closest known names.</summary>
public sealed class UnknownPerfEventException : VmProbeException
{
    public UnknownPerfEventException(string eventName, string message, IReadOnlyList<string> suggestions)
        : base(message, "perf_event,unknown", ProbeErrorKind.InvalidArgument)
    {
        EventName = eventName;
        Suggestions = suggestions;
        RecommendedAction = "Use a name listed by Get-VmPerfEvent, a tracepoint as subsystem:name, or a PMU event as pmu/event.";
    }

    public string EventName { get; }

    public IReadOnlyList<string> Suggestions { get; }
}
