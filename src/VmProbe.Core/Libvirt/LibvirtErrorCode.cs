namespace VmProbe.Libvirt;

/// <summary>The virErrorNumber values VmProbe reacts to, and the symbolic name of any code for ErrorIds.</summary>
internal static class LibvirtErrorCode
{
    public const int InternalError = 1;
    public const int NoSupport = 3;
    public const int NoConnect = 5;
    public const int InvalidConn = 6;
    public const int InvalidArg = 8;
    public const int OperationDenied = 29;
    public const int SystemError = 38;
    public const int Rpc = 39;
    public const int NoDomain = 42;
    public const int AuthFailed = 45;
    public const int OperationInvalid = 55;
    public const int OperationTimeout = 68;
    public const int ArgumentUnsupported = 74;
    public const int AuthCancelled = 79;
    public const int OperationUnsupported = 84;
    public const int AgentUnresponsive = 86;
    public const int ResourceBusy = 87;
    public const int AccessDenied = 88;
    public const int AuthUnavailable = 94;

    private static readonly string[] Names =
    {
        "VIR_ERR_OK", "VIR_ERR_INTERNAL_ERROR", "VIR_ERR_NO_MEMORY", "VIR_ERR_NO_SUPPORT", "VIR_ERR_UNKNOWN_HOST",
        "VIR_ERR_NO_CONNECT", "VIR_ERR_INVALID_CONN", "VIR_ERR_INVALID_DOMAIN", "VIR_ERR_INVALID_ARG", "VIR_ERR_OPERATION_FAILED",
        "VIR_ERR_GET_FAILED", "VIR_ERR_POST_FAILED", "VIR_ERR_HTTP_ERROR", "VIR_ERR_SEXPR_SERIAL", "VIR_ERR_NO_XEN",
        "VIR_ERR_XEN_CALL", "VIR_ERR_OS_TYPE", "VIR_ERR_NO_KERNEL", "VIR_ERR_NO_ROOT", "VIR_ERR_NO_SOURCE",
        "VIR_ERR_NO_TARGET", "VIR_ERR_NO_NAME", "VIR_ERR_NO_OS", "VIR_ERR_NO_DEVICE", "VIR_ERR_NO_XENSTORE",
        "VIR_ERR_DRIVER_FULL", "VIR_ERR_CALL_FAILED", "VIR_ERR_XML_ERROR", "VIR_ERR_DOM_EXIST", "VIR_ERR_OPERATION_DENIED",
        "VIR_ERR_OPEN_FAILED", "VIR_ERR_READ_FAILED", "VIR_ERR_PARSE_FAILED", "VIR_ERR_CONF_SYNTAX", "VIR_ERR_WRITE_FAILED",
        "VIR_ERR_XML_DETAIL", "VIR_ERR_INVALID_NETWORK", "VIR_ERR_NETWORK_EXIST", "VIR_ERR_SYSTEM_ERROR", "VIR_ERR_RPC",
        "VIR_ERR_GNUTLS_ERROR", "VIR_WAR_NO_NETWORK", "VIR_ERR_NO_DOMAIN", "VIR_ERR_NO_NETWORK", "VIR_ERR_INVALID_MAC",
        "VIR_ERR_AUTH_FAILED", "VIR_ERR_INVALID_STORAGE_POOL", "VIR_ERR_INVALID_STORAGE_VOL", "VIR_WAR_NO_STORAGE", "VIR_ERR_NO_STORAGE_POOL",
        "VIR_ERR_NO_STORAGE_VOL", "VIR_WAR_NO_NODE", "VIR_ERR_INVALID_NODE_DEVICE", "VIR_ERR_NO_NODE_DEVICE", "VIR_ERR_NO_SECURITY_MODEL",
        "VIR_ERR_OPERATION_INVALID", "VIR_WAR_NO_INTERFACE", "VIR_ERR_NO_INTERFACE", "VIR_ERR_INVALID_INTERFACE", "VIR_ERR_MULTIPLE_INTERFACES",
        "VIR_WAR_NO_NWFILTER", "VIR_ERR_INVALID_NWFILTER", "VIR_ERR_NO_NWFILTER", "VIR_ERR_BUILD_FIREWALL", "VIR_WAR_NO_SECRET",
        "VIR_ERR_INVALID_SECRET", "VIR_ERR_NO_SECRET", "VIR_ERR_CONFIG_UNSUPPORTED", "VIR_ERR_OPERATION_TIMEOUT", "VIR_ERR_MIGRATE_PERSIST_FAILED",
        "VIR_ERR_HOOK_SCRIPT_FAILED", "VIR_ERR_INVALID_DOMAIN_SNAPSHOT", "VIR_ERR_NO_DOMAIN_SNAPSHOT", "VIR_ERR_INVALID_STREAM", "VIR_ERR_ARGUMENT_UNSUPPORTED",
        "VIR_ERR_STORAGE_PROBE_FAILED", "VIR_ERR_STORAGE_POOL_BUILT", "VIR_ERR_SNAPSHOT_REVERT_RISKY", "VIR_ERR_OPERATION_ABORTED", "VIR_ERR_AUTH_CANCELLED",
        "VIR_ERR_NO_DOMAIN_METADATA", "VIR_ERR_MIGRATE_UNSAFE", "VIR_ERR_OVERFLOW", "VIR_ERR_BLOCK_COPY_ACTIVE", "VIR_ERR_OPERATION_UNSUPPORTED",
        "VIR_ERR_SSH", "VIR_ERR_AGENT_UNRESPONSIVE", "VIR_ERR_RESOURCE_BUSY", "VIR_ERR_ACCESS_DENIED", "VIR_ERR_DBUS_SERVICE",
        "VIR_ERR_STORAGE_VOL_EXIST", "VIR_ERR_CPU_INCOMPATIBLE", "VIR_ERR_XML_INVALID_SCHEMA", "VIR_ERR_MIGRATE_FINISH_OK", "VIR_ERR_AUTH_UNAVAILABLE",
        "VIR_ERR_NO_SERVER", "VIR_ERR_NO_CLIENT", "VIR_ERR_AGENT_UNSYNCED", "VIR_ERR_LIBSSH", "VIR_ERR_DEVICE_MISSING",
        "VIR_ERR_INVALID_NWFILTER_BINDING", "VIR_ERR_NO_NWFILTER_BINDING", "VIR_ERR_INVALID_DOMAIN_CHECKPOINT", "VIR_ERR_NO_DOMAIN_CHECKPOINT", "VIR_ERR_NO_DOMAIN_BACKUP",
        "VIR_ERR_INVALID_NETWORK_PORT", "VIR_ERR_NETWORK_PORT_EXIST", "VIR_ERR_NO_NETWORK_PORT", "VIR_ERR_NO_HOSTNAME", "VIR_ERR_CHECKPOINT_INCONSISTENT",
        "VIR_ERR_MULTIPLE_DOMAINS",
    };

    /// <summary><c>VIR_ERR_NO_CONNECT</c> for 5; <c>VIR_ERR_123</c> for a code newer than this table.</summary>
    public static string NameOf(int code) =>
        code >= 0 && code < Names.Length ? Names[code] : "VIR_ERR_" + code.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>How VmProbe classifies a libvirt error code.</summary>
    public static ProbeErrorKind KindOf(int code) => code switch
    {
        AuthFailed or AuthCancelled or AuthUnavailable or AccessDenied or OperationDenied => ProbeErrorKind.PermissionDenied,
        NoDomain => ProbeErrorKind.NotFound,
        NoConnect or InvalidConn or SystemError or Rpc => ProbeErrorKind.ConnectionError,
        NoSupport or OperationUnsupported or ArgumentUnsupported => ProbeErrorKind.NotSupported,
        InvalidArg => ProbeErrorKind.InvalidArgument,
        OperationTimeout or AgentUnresponsive => ProbeErrorKind.Timeout,
        ResourceBusy => ProbeErrorKind.ResourceUnavailable,
        _ => ProbeErrorKind.Unknown,
    };

    /// <summary>Errors after which the connection is unusable and must be reopened.</summary>
    public static bool IsConnectionLost(int code) => code is NoConnect or InvalidConn or SystemError or Rpc;
}
