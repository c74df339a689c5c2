using VmProbe.Commands;
using VmProbe.Composition;
using VmProbe.Config;

namespace VmProbe;

/// <summary>
/// The probe a config describes, opened by Open-VmProbe: the very composition, cycle and schedule the <c>vmprobe</c>
/// runner runs. Invoke-VmProbeCycle runs its next cycle and writes the file; Close-VmProbe (or removing the module,
/// or closing the runspace that opened it) releases its fds, connections and files.
/// </summary>
public sealed class VmProbeSession : IDisposable
{
    private static int _lastId;
    private readonly SemaphoreSlim _step = new(1, 1);

    internal VmProbeSession(ProbeRun run, ProbeConfig config, QueuedProbeLog log)
    {
        Run = run;
        Config = config;
        Log = log;
        Id = Interlocked.Increment(ref _lastId);
        ModuleState.Current.Track(this);
    }

    /// <summary>Process-wide probe number, from 1.</summary>
    public int Id { get; }

    public ProbeConfig Config { get; }

    /// <summary>The file each cycle writes.</summary>
    public string Endpoint => Config.Endpoint;

    /// <summary>The sources in collection order, as <c>vmprobe --check</c> lists them.</summary>
    public IReadOnlyList<string> Sources => Run.SourceNames;

    /// <summary>Cycles run so far.</summary>
    public long Cycles => Run.Loop.CyclesCompleted;

    public bool IsOpen => !Run.IsDisposed;

    internal ProbeRun Run { get; }

    internal QueuedProbeLog Log { get; }

    /// <summary>The message of the last export failure reported, so that a failure repeating every cycle is written once.</summary>
    internal string? LastExportError { get; set; }

    /// <summary>One step at a time: the cycle is not thread-safe and a probe may be shared between runspaces.</summary>
    internal bool TryBeginStep() => _step.Wait(0);

    internal void EndStep() => _step.Release();

    public bool Close()
    {
        ModuleState.Current.Forget(this);
        if (Run.IsDisposed)
        {
            return false;
        }

        // A cycle in progress (another runspace stepping it) finishes first; a stuck one does not keep the fds forever.
        var stepping = _step.Wait(TimeSpan.FromSeconds(30));
        try
        {
            Run.Dispose();
        }
        finally
        {
            if (stepping)
            {
                _step.Release();
            }
        }

        return true;
    }

    public void Dispose() => Close();

    public override string ToString() => $"VmProbeSession {Id} ({Endpoint})";
}
