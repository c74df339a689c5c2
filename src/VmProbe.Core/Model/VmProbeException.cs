namespace VmProbe;

/// <summary>What went wrong, in terms a caller can act on; the cmdlets map it to an ErrorCategory.</summary>
public enum ProbeErrorKind
{
    Unknown,
    PermissionDenied,
    NotFound,
    InvalidArgument,
    InvalidData,
    ResourceUnavailable,
    NotSupported,
    ConnectionError,
    Timeout,
}

/// <summary>
/// Base of every exception the engine throws on purpose. <see cref="ErrorId"/> is stable across releases
/// (for example <c>perf_event_open,EACCES</c>) so that scripts and the cmdlets' ErrorRecords can key on it.
/// </summary>
public class VmProbeException : Exception
{
    public VmProbeException(string message, string errorId, ProbeErrorKind kind, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
    }

    public string ErrorId { get; }

    public ProbeErrorKind Kind { get; }

    /// <summary>What the user can do about it, when the engine knows; shown as the recommended action.</summary>
    public string? RecommendedAction { get; init; }

    /// <summary>
    /// A part a source could not read (see <see cref="CycleContext.ItemErrors"/>) that the source has logged itself, in one
    /// summary line per change for many parts: the cycle counts it in <c>probe_errors_total</c> but logs nothing for it.
    /// </summary>
    public bool LoggedBySource { get; init; }

    /// <summary>
    /// One line for a log: the message and <see cref="ErrorId"/> of a <see cref="VmProbeException"/>, the type name and
    /// message of any other exception.
    /// </summary>
    public static string Describe(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error is VmProbeException probe
            ? $"{probe.Message} [{probe.ErrorId}]"
            : $"{error.GetType().Name}: {error.Message}";
    }
}
