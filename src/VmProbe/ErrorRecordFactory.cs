using System.Management.Automation;

namespace VmProbe.Commands;

/// <summary>
/// The one place that turns exceptions into ErrorRecords: the engine's stable ErrorId becomes the record's
/// FullyQualifiedErrorId, its <see cref="ProbeErrorKind"/> the category, its RecommendedAction the ErrorDetails'.
/// </summary>
internal static class ErrorRecordFactory
{
    public static ErrorCategory CategoryFor(ProbeErrorKind kind) => kind switch
    {
        ProbeErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        ProbeErrorKind.NotFound => ErrorCategory.ObjectNotFound,
        ProbeErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        ProbeErrorKind.InvalidData => ErrorCategory.InvalidData,
        ProbeErrorKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        ProbeErrorKind.NotSupported => ErrorCategory.NotImplemented,
        ProbeErrorKind.ConnectionError => ErrorCategory.ConnectionError,
        ProbeErrorKind.Timeout => ErrorCategory.OperationTimeout,
        _ => ErrorCategory.NotSpecified,
    };

    /// <summary>The ErrorId and category an exception maps to (the part of the mapping that does not need a PowerShell host).</summary>
    public static (string ErrorId, ErrorCategory Category) Classify(Exception exception) => exception switch
    {
        VmProbeException probe => (probe.ErrorId, CategoryFor(probe.Kind)),
        UnauthorizedAccessException => ("access,denied", ErrorCategory.PermissionDenied),
        FileNotFoundException => ("file,not_found", ErrorCategory.ObjectNotFound),
        DirectoryNotFoundException => ("directory,not_found", ErrorCategory.ObjectNotFound),
        ArgumentException => ("argument,invalid", ErrorCategory.InvalidArgument),
        IOException => ("io,error", ErrorCategory.WriteError),
        OperationCanceledException => ("operation,canceled", ErrorCategory.OperationStopped),
        _ => (exception.GetType().Name, ErrorCategory.NotSpecified),
    };

    public static ErrorRecord FromException(Exception exception, object? target)
    {
        var (errorId, category) = Classify(exception);
        var record = new ErrorRecord(exception, errorId, category, target);
        var recommended = exception switch
        {
            VmProbeException probe => probe.RecommendedAction,
            _ => null,
        };
        if (recommended is not null)
        {
            record.ErrorDetails = new ErrorDetails(exception.Message) { RecommendedAction = recommended };
        }

        return record;
    }

    /// <summary>A record for an error the module itself detects (bad argument, unknown domain).</summary>
    public static ErrorRecord Create(string errorId, ErrorCategory category, string message, object? target, string? recommendedAction = null)
    {
        var exception = category switch
        {
            ErrorCategory.ObjectNotFound => (Exception)new ItemNotFoundException(message),
            ErrorCategory.InvalidArgument => new ArgumentException(message),
            _ => new InvalidOperationException(message),
        };
        var record = new ErrorRecord(exception, errorId, category, target);
        if (recommendedAction is not null)
        {
            record.ErrorDetails = new ErrorDetails(message) { RecommendedAction = recommendedAction };
        }

        return record;
    }
}
