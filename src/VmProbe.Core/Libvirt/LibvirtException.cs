namespace VmProbe.Libvirt;

/// <summary>
/// A libvirt call failed. <see cref="VmProbeException.ErrorId"/> is <c>function,VIR_ERR_NAME</c> (for example
/// <c>virConnectOpenReadOnly,VIR_ERR_NO_CONNECT</c>); <see cref="Code"/> and <see cref="ErrorDomain"/> are libvirt's numbers.
/// </summary>
public class LibvirtException : VmProbeException
{
    public LibvirtException(string function, int code, int errorDomain, int level, string? libvirtMessage, string? subject = null, Exception? inner = null)
        : base(FormatMessage(function, code, libvirtMessage, subject), function + "," + LibvirtErrorCode.NameOf(code), LibvirtErrorCode.KindOf(code), inner)
    {
        Function = function;
        Code = code;
        ErrorDomain = errorDomain;
        Level = level;
        LibvirtMessage = libvirtMessage;
        RecommendedAction = RecommendFor(code);
    }

    /// <summary>For errors raised by VmProbe itself around libvirt (library missing, timeout).</summary>
    protected LibvirtException(string message, string errorId, ProbeErrorKind kind, string function, Exception? inner = null)
        : base(message, errorId, kind, inner)
    {
        Function = function;
    }

    /// <summary>The libvirt function that failed.</summary>
    public string Function { get; }

    /// <summary>virErrorNumber; 0 when libvirt gave none.</summary>
    public int Code { get; }

    /// <summary>virErrorDomain: which part of libvirt raised it.</summary>
    public int ErrorDomain { get; }

    /// <summary>virErrorLevel: 1 warning, 2 error.</summary>
    public int Level { get; }

    public string? LibvirtMessage { get; }

    /// <summary>True when the connection that raised it must be reopened before the next call.</summary>
    public virtual bool IsConnectionLost => LibvirtErrorCode.IsConnectionLost(Code);

    /// <summary>
    /// Set by <see cref="LibvirtSession"/> when this failure repeats one already logged: callers that log exceptions
    /// should log it at Debug only (it is still thrown so that the cycle counts it).
    /// </summary>
    public bool AlreadyReported { get; internal set; }

    private static string FormatMessage(string function, int code, string? libvirtMessage, string? subject)
    {
        var what = subject is null ? function : $"{function} ({subject})";
        return $"{what} failed: {libvirtMessage ?? "no message"} [{LibvirtErrorCode.NameOf(code)}]";
    }

    private static string? RecommendFor(int code) => LibvirtErrorCode.KindOf(code) switch
    {
        ProbeErrorKind.PermissionDenied => "Run as root, or allow read-only access in libvirtd.conf (auth_unix_ro, unix_sock_ro_perms).",
        ProbeErrorKind.ConnectionError => "Check that libvirtd (or virtqemud) is running and that the configured URI is right.",
        _ => null,
    };
}
