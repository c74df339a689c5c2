using System.Management.Automation;
using VmProbe.Native;

namespace VmProbe.Commands;

/// <summary>
/// Runs at Import-Module: routes libvirt's P/Invokes to libvirt.so.0 (or the file named by <c>VMPROBE_LIBVIRT_PATH</c>)
/// without loading it, so that import succeeds on a host without libvirt and the first cmdlet that needs libvirt gets
/// one clear error (LibvirtUnavailableException, error id <c>libvirt,LibraryNotFound</c>) instead of an import failure.
/// </summary>
public sealed class VmProbeModuleInitializer : IModuleAssemblyInitializer
{
    public void OnImport() => LibvirtLibrary.InstallResolver();
}
