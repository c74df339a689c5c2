using VmProbe.Perf;

namespace VmProbe.Commands.Engine;

/// <summary><see cref="PerfEventCatalog"/> with support probed once per event (<see cref="PerfEventSupport"/>).</summary>
internal sealed class CorePerfEventCatalog : IPerfEventCatalog
{
    public IReadOnlyList<VmPerfEventInfo> ListEvents() => PerfEventSupport.ListCatalog();

    // Tracepoints (subsystem:name) and PMU events (pmu/event) resolve too; unknown names are null, not an exception.
    public PerfEventSpec? Resolve(string name) =>
        PerfEventCatalog.TryParse(name, bareNumberIsTracepoint: false, out var spec, out _) ? spec : null;
}
