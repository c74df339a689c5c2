using VmProbe.Perf;

namespace VmProbe;

/// <summary>One entry of the perf event catalog, as Get-VmPerfEvent lists it (like <c>perf list</c>).</summary>
public sealed class VmPerfEventInfo
{
    /// <summary>The canonical snake_case name used in the config and as the <c>event</c> label.</summary>
    public required string Name { get; init; }

    public PerfEventKind Kind { get; init; }

    /// <summary>Other accepted spellings (perf's names such as <c>cpu-cycles</c>, PascalCase forms such as <c>Cycles</c>).</summary>
    public IReadOnlyList<string> Aliases { get; init; } = Array.Empty<string>();

    public string Description { get; init; } = string.Empty;

    /// <summary>Whether this kernel and CPU can open the event (probed with perf_event_open).</summary>
    public bool Supported { get; init; }

    /// <summary>Why it is not supported (for example <c>ENOENT: no hardware PMU</c>), or null.</summary>
    public string? Reason { get; init; }

    public override string ToString() => Name;
}
