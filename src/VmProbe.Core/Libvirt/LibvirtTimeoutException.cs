namespace VmProbe.Libvirt;

/// <summary>A libvirt call did not return within the session's timeout; its connection was abandoned and will be reopened.</summary>
public sealed class LibvirtTimeoutException : LibvirtException
{
    public LibvirtTimeoutException(string operation, string uri, TimeSpan timeout)
        : base($"libvirt {operation} on {uri} did not return within {timeout.TotalSeconds:0.#} s; the connection was abandoned and will be reopened next cycle.",
            operation + ",Timeout", ProbeErrorKind.Timeout, operation)
    {
        RecommendedAction = "Check libvirtd's health (virsh -c URI list); a domain whose monitor hangs can block libvirt calls.";
    }

    public override bool IsConnectionLost => true;
}
