using VmProbe.Native;

namespace VmProbe.Composition;

/// <summary>
/// The sources' slow one-time set-ups (<see cref="IEarlySetup"/>: eBPF loads, most of it libbpf parsing the kernel's BTF
/// and the verifier). Where the log takes lines from any thread (<see cref="IConcurrentProbeLog"/>) and the open-file
/// limit leaves room, they run on a thread of their own from before the first discovery, beside it and the opening of
/// the counters, and the first collection waits for them; elsewhere they run on the cycle's thread once the counters are
/// open. Failures are handed back to be counted on the cycle's thread either way.
/// </summary>
internal sealed class EarlySetups
{
    // While the counters open beside them the set-ups hold about a hundred fds (programs, maps, links, BTF).
    private const int BackgroundFds = 256;

    private readonly (int Index, IEarlySetup Source)[] _setUps;
    private readonly IProbeLog _log;
    private readonly List<(int Index, Exception Error)> _failures = new();
    private Thread? _thread;
    private bool _begun;

    public EarlySetups(IReadOnlyList<IMetricSource> sources, IProbeLog log)
    {
        _setUps = sources.Select((source, index) => (index, source)).Where(s => s.source is IEarlySetup)
            .Select(s => (s.index, (IEarlySetup)s.source)).ToArray();
        _log = log;
    }

    /// <summary>Whether the set-ups run (or ran) on a thread of their own.</summary>
    public bool InBackground => _thread is not null;

    /// <summary>Before the first discovery: starts the set-ups on their own thread where they may run there.</summary>
    public void TryBeginInBackground()
    {
        if (_begun || _setUps.Length == 0 || _log is not IConcurrentProbeLog || !FdLimits.Fits(BackgroundFds))
        {
            return;
        }

        try
        {
            var thread = new Thread(RunAll, maxStackSize: 1024 * 1024) { IsBackground = true, Name = "vmprobe set-up" };
            thread.Start();
            _thread = thread;
            _begun = true;
        }
        catch (Exception error) when (error is OutOfMemoryException or ThreadStartException)
        {
            // No thread to be had: they run on the cycle's thread.
        }
    }

    /// <summary>Once the counters are open: runs the set-ups here unless they began in the background.</summary>
    public void RunHereUnlessBegun()
    {
        if (!_begun)
        {
            _begun = true;
            RunAll();
        }
    }

    /// <summary>Waits for a background run to end (at once if none); safe from any thread, changes nothing.</summary>
    public void Join() => Volatile.Read(ref _thread)?.Join();

    /// <summary>On the cycle's thread: waits for a background run and returns the failures not handed back yet.</summary>
    public IReadOnlyList<(int Index, Exception Error)> Finish()
    {
        Join();

        if (_failures.Count == 0)
        {
            return Array.Empty<(int, Exception)>();
        }

        var failures = _failures.ToArray();
        _failures.Clear();
        return failures;
    }

    private void RunAll()
    {
        foreach (var (index, source) in _setUps)
        {
            try
            {
                source.SetUp(_log);
            }
            catch (Exception error)
            {
                _failures.Add((index, error)); // read only after Join (or on this same thread)
            }
        }
    }
}
