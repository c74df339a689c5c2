using System.Management.Automation;
using VmProbe.Composition;

namespace VmProbe.Commands;

/// <summary>
/// Invoke-VmProbeCycle: waits for the probe's next tick (the first call prepares the counters and waits one delay), runs
/// one cycle of the runner's loop and writes the file. Ctrl+C during the first interval still writes that cycle; during a
/// later wait it returns without one.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "VmProbeCycle")]
[OutputType(typeof(CycleOutcome))]
public sealed class InvokeVmProbeCycleCommand : VmProbeCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public VmProbeSession? Probe { get; set; }

    protected override void ProcessRecord()
    {
        var probe = Probe!;
        if (!probe.IsOpen || !probe.TryBeginStep())
        {
            WriteError(ErrorRecordFactory.Create(
                "vmprobe,not_runnable", ErrorCategory.InvalidOperation, $"{probe} is {(probe.IsOpen ? "running a cycle in another command" : "closed")}.", probe,
                "Open a probe with Open-VmProbe; step each probe from one command at a time."));
            return;
        }

        CycleOutcome? outcome;
        try
        {
            probe.Log.Listen(Log);
            var step = probe.Run.Loop.RunNextAsync(_stopping.Token);
            // The cycle runs off this thread after a wait: pass its log lines on while waiting.
            while (!step.Wait(200))
            {
                probe.Log.Drain(Log);
            }

            probe.Log.Drain(Log);
            outcome = step.GetAwaiter().GetResult();
        }
        finally
        {
            probe.EndStep();
        }

        if (outcome is null)
        {
            return; // stopped while waiting for the tick
        }

        ReportExport(probe, outcome);
        WriteObject(outcome);
    }

    protected override void StopProcessing() => _stopping.Cancel();

    public void Dispose() => _stopping.Dispose();

    private void ReportExport(VmProbeSession probe, CycleOutcome outcome)
    {
        // Written once per change, like the runner's log: a loop over a full disk must not write an error every cycle.
        var message = outcome.ExportError?.Message;
        if (message is not null && message != probe.LastExportError)
        {
            WriteProbeError(outcome.ExportError!, outcome.Destination);
        }
        else if (message is null && probe.LastExportError is not null)
        {
            WriteVerbose($"{outcome.Destination} is written again.");
        }

        probe.LastExportError = message;
    }
}
