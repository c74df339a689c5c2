namespace VmProbe.Perf;

/// <summary>
/// One event the catalog knows by name: its canonical snake_case name (the <c>event</c> label value), every other
/// accepted spelling, and the perf_event_attr type/config it opens.
/// </summary>
public sealed record PerfEventCatalogEntry(
    string CanonicalName,
    PerfEventKind Kind,
    uint Type,
    ulong Config,
    IReadOnlyList<string> Aliases,
    string Description)
{
    public PerfEventSpec ToSpec() => new(CanonicalName, Kind, Type, Config);

    public override string ToString() => CanonicalName;
}
