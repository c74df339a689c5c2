namespace VmProbe.Libvirt;

/// <summary>
/// A libvirt call did not return within the session's deadline (it is left to finish on the session's worker), or was
/// not issued because an earlier call has still not returned.
/// </summary>
public sealed class LibvirtTimeoutException : LibvirtException
{
    public LibvirtTimeoutException(string operation, string uri, TimeSpan timeout, bool stillHung = false)
        : base(stillHung
                ? $"libvirt {operation} on {uri} not issued: an earlier call has still not returned (deadline {timeout.TotalSeconds:0.###} s); it is retried once that call returns."
                : $"libvirt {operation} on {uri} did not return within {timeout.TotalSeconds:0.###} s; the connection was abandoned and will be reopened once the call returns.",
            operation + ",Timeout", ProbeErrorKind.Timeout, operation)
    {
        RecommendedAction = "Check libvirtd's health (virsh -c URI list); a domain whose monitor hangs can block libvirt calls.";
    }

    public override bool IsConnectionLost => true;
}
