using System.Management.Automation;

namespace VmProbe.Commands;

/// <summary>Stop-VmPerfSession: closes every perf fd of the sessions given.</summary>
[Cmdlet(VerbsLifecycle.Stop, "VmPerfSession", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(VmPerfSession))]
public sealed class StopVmPerfSessionCommand : VmProbeCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public VmPerfSession[] Session { get; set; } = Array.Empty<VmPerfSession>();

    /// <summary>Output the stopped sessions.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var session in Session)
        {
            if (!ShouldProcess(session.ToString(), "Stop perf session"))
            {
                continue;
            }

            if (!session.Close())
            {
                WriteVerbose($"Perf session {session.Id} was already stopped.");
            }

            if (PassThru.IsPresent)
            {
                WriteObject(session);
            }
        }
    }
}
