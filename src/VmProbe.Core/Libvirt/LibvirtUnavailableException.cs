namespace VmProbe.Libvirt;

/// <summary>libvirt.so.0 could not be loaded; every libvirt feature is off until it is installed.</summary>
public sealed class LibvirtUnavailableException : LibvirtException
{
    public LibvirtUnavailableException(string message)
        : base(message, "libvirt,LibraryNotFound", ProbeErrorKind.ResourceUnavailable, "dlopen")
    {
        RecommendedAction = "Install libvirt0 (Debian/Ubuntu) or libvirt-libs (RHEL/Fedora), or set VMPROBE_LIBVIRT_PATH, or use discovery: process.";
    }

    public override bool IsConnectionLost => false;
}
