using System.Management.Automation;

namespace VmProbe.Commands;

/// <summary>Closes the perf sessions still open when the module is removed (Remove-Module, runspace end).</summary>
public sealed class VmProbeModuleCleanup : IModuleAssemblyCleanup
{
    public void OnRemove(PSModuleInfo psModuleInfo) => VmPerfSession.CloseAll();
}
