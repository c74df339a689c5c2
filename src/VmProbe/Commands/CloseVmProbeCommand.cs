using System.Management.Automation;

namespace VmProbe.Commands;

/// <summary>Close-VmProbe: releases every perf fd, libvirt connection and kept file of the probes given.</summary>
[Cmdlet(VerbsCommon.Close, "VmProbe")]
[OutputType(typeof(VmProbeSession))]
public sealed class CloseVmProbeCommand : VmProbeCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public VmProbeSession[] Probe { get; set; } = Array.Empty<VmProbeSession>();

    /// <summary>Output the closed probes.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var probe in Probe)
        {
            if (!probe.Close())
            {
                WriteVerbose($"{probe} was already closed.");
            }

            if (PassThru.IsPresent)
            {
                WriteObject(probe);
            }
        }
    }
}
