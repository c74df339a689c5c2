using System.Collections.Concurrent;
using System.Management.Automation;
using VmProbe.Composition;
using VmProbe.Config;
using VmProbe.Views;

namespace VmProbe.Commands;

/// <summary>
/// Watch-VmDomain: <c>vmprobe top</c>'s rows in PowerShell. Runs the runner's loop over a config (without writing its
/// textfile) and writes, each interval, one row per VM (CPU, steal, guest time, exits, IPC, RSS, disk, network, watts)
/// from the same view engine, stamped with the cycle's time; the default table reads like top's screen.
/// </summary>
[Cmdlet(VerbsCommon.Watch, "VmDomain")]
[OutputType(typeof(VmViewRow))]
public sealed class WatchVmDomainCommand : VmProbeCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly BlockingCollection<ViewFrame> _frames = new();

    /// <summary>The YAML config (or the C++ vmprobe's config.yaml); /etc/vmprobe/config.yaml when omitted.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? ConfigPath { get; set; }

    /// <summary>Only VMs whose name matches one of these wildcards.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Intervals with rates to write; 0 (the default) until Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int MaxSamples { get; set; }

    protected override void EndProcessing()
    {
        var path = ConfigPath is null ? ConfigLoader.DefaultPath : GetUnresolvedProviderPathFromPSPath(ConfigPath);
        var names = (Name ?? new[] { "*" }).Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToArray();
        var log = new QueuedProbeLog();
        log.Listen(Log);
        ProbeRun run;
        try
        {
            var outputs = new ProbeOutputs { Textfile = false, Views = new IViewConsumer[] { new FrameQueue(_frames) } };
            var loaded = ConfigLoader.Load(path);
            foreach (var warning in loaded.Warnings)
            {
                WriteWarning(warning.ToString());
            }

            run = ProbeRun.Start(loaded.Config, log, outputs: outputs);
        }
        catch (Exception ex) when (IsItemError(ex))
        {
            log.Drain(Log);
            ThrowProbeError(ex, path);
            return;
        }

        using (run)
        {
            for (var written = 0; MaxSamples == 0 || written < MaxSamples;)
            {
                var step = run.Loop.RunNextAsync(_stopping.Token);
                while (!step.Wait(200))
                {
                    log.Drain(Log);
                }

                log.Drain(Log);
                if (step.GetAwaiter().GetResult() is null || !_frames.TryTake(out var frame) || frame.IntervalSeconds is null)
                {
                    if (_stopping.IsCancellationRequested)
                    {
                        return;
                    }

                    continue; // the first cycle has no rates yet
                }

                foreach (var row in frame.Vms.Where(vm => names.Any(n => n.IsMatch(vm.Name))))
                {
                    var item = PSObject.AsPSObject(row);
                    item.Properties.Add(new PSNoteProperty("Timestamp", frame.Timestamp));
                    WriteObject(item);
                }

                written++;
            }
        }
    }

    protected override void StopProcessing() => _stopping.Cancel();

    public void Dispose()
    {
        _stopping.Dispose();
        _frames.Dispose();
    }

    private sealed class FrameQueue(BlockingCollection<ViewFrame> frames) : IViewConsumer
    {
        public void Show(ViewFrame frame) => frames.Add(frame);
    }
}
