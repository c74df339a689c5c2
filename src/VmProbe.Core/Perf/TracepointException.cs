namespace VmProbe.Perf;

/// <summary>
/// A tracepoint that cannot be resolved to its tracefs id: the tracepoint does not exist (<see cref="ProbeErrorKind.NotFound"/>)
/// or tracefs is not available (<see cref="ProbeErrorKind.NotSupported"/>).
/// </summary>
public sealed class TracepointException : VmProbeException
{
    public TracepointException(string tracepointName, string message, string errorId, ProbeErrorKind kind, Exception? inner = null)
        : base(message, errorId, kind, inner)
    {
        TracepointName = tracepointName;
    }

    /// <summary>The tracepoint as subsystem:name.</summary>
    public string TracepointName { get; }
}
