namespace VmProbe.Composition;

/// <summary>What one step of the loop did: which cycle, when, how long it took to collect, and whether the file was written.</summary>
/// <param name="Cycle">1 for the first cycle.</param>
/// <param name="Timestamp">When the cycle started (wall clock).</param>
/// <param name="Duration">From discovery to the last source; the write itself excluded.</param>
/// <param name="Domains">Domains found by the discovery in this cycle.</param>
/// <param name="SkippedTicks">Ticks missed because the previous cycle ran past them.</param>
/// <param name="Destination">Where the cycle was written.</param>
/// <param name="ExportError">Why the file was not written, or null when it was.</param>
public sealed record CycleOutcome(
    long Cycle, DateTimeOffset Timestamp, TimeSpan Duration, int Domains, long SkippedTicks, string Destination, Exception? ExportError)
{
    public bool Exported => ExportError is null;
}
