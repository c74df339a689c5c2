using System.Collections.Concurrent;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using VmProbe.Config;
using VmProbe.Perf;
using VmProbe.Procfs;
using VmProbe.Prometheus;

namespace VmProbe.Commands;

/// <summary>
/// Everything the module keeps between commands, one instance per runspace (PSOpenAD's GlobalState, scoped to the
/// runspace so that a thread job's probe is not closed by the session that started it): the perf sessions, the open
/// probes, the procfs reader whose per-domain totals must survive exited threads and Export-PromTextFile's legacy
/// transforms (previous perf values per config object) and writers (per endpoint). Released when its runspace closes
/// or the module is removed from it.
/// </summary>
internal sealed class ModuleState
{
    // The fd limit is per process: every runspace's perf sessions draw on one budget.
    internal static readonly PerfFdBudget PerfBudget = new();

    private static readonly ConcurrentDictionary<Guid, ModuleState> ByRunspace = new();
    private static readonly ModuleState NoRunspace = new();

    private readonly object _gate = new();
    private readonly List<IDisposable> _resources = new();

    // Weak on the config: a transform lives as long as the config object the caller keeps passing.
    private readonly ConditionalWeakTable<ProbeConfig, LegacyExpositionState> _legacyByConfig = new();
    private DomainSchedStatReader? _schedReader;
    private VmProbe.Composition.DomainPowerReader? _powerReader;

    // Export-PromTextFile's writers per endpoint and prefix, so that a script exporting every interval renders each
    // series' key once (PromTextWriter's cache) instead of every call. A handful of endpoints; past the bound, start over.
    private const int MaxPromTextFiles = 16;
    private readonly Dictionary<(string Path, string Prefix), PromTextFileTarget> _promTextFiles = new();

    /// <summary>The state of the calling thread's runspace (a process-wide one outside any runspace, as in xunit).</summary>
    public static ModuleState Current
    {
        get
        {
            var runspace = Runspace.DefaultRunspace;
            if (runspace is null)
            {
                return NoRunspace;
            }

            if (ByRunspace.TryGetValue(runspace.InstanceId, out var state))
            {
                return state;
            }

            state = ByRunspace.GetOrAdd(runspace.InstanceId, _ => new ModuleState());
            runspace.StateChanged += (_, e) =>
            {
                if (e.RunspaceStateInfo.State is RunspaceState.Closed or RunspaceState.Broken)
                {
                    Release(runspace.InstanceId);
                }
            };
            return state;
        }
    }

    /// <summary>Closes everything the calling runspace holds; returns how many resources were released.</summary>
    public static int ReleaseCurrent() =>
        Runspace.DefaultRunspace is { } runspace ? Release(runspace.InstanceId) : NoRunspace.ReleaseAll();

    /// <summary>Read-VmSchedStat's reader, kept so that a domain's counters never go back when one of its threads exits.</summary>
    public DomainSchedStatReader SchedReader
    {
        get
        {
            lock (_gate)
            {
                return _schedReader ??= Track(new DomainSchedStatReader());
            }
        }
    }

    /// <summary>Read-VmPower's reader, kept so that energy accumulates and each reading's watts cover the time since the previous.</summary>
    public VmProbe.Composition.DomainPowerReader PowerReader
    {
        get
        {
            lock (_gate)
            {
                return _powerReader ??= Track(new VmProbe.Composition.DomainPowerReader(budget: PerfBudget));
            }
        }
    }

    /// <summary>Export-PromTextFile's <c>naming: legacy</c> transform for <paramref name="config"/>: one per config object, kept across calls.</summary>
    public LegacyExpositionState LegacyExpositionFor(ProbeConfig config) =>
        _legacyByConfig.GetValue(config, c => new LegacyExpositionState(c));

    /// <summary>Export-PromTextFile's writer pair for <paramref name="path"/> and <paramref name="prefix"/>, kept across calls.</summary>
    /// <exception cref="VmProbeException">The path is not a .prom file or the prefix clashes with node_exporter's names.</exception>
    public PromTextFileTarget PromTextFileFor(string path, string prefix)
    {
        var key = (path.Length == 0 ? path : Path.GetFullPath(path), prefix); // "" gets TextFileWriter's own error
        lock (_gate)
        {
            if (!_promTextFiles.TryGetValue(key, out var target))
            {
                target = new PromTextFileTarget(path, prefix); // throws on a bad path or prefix before anything is kept
                if (_promTextFiles.Count >= MaxPromTextFiles)
                {
                    _promTextFiles.Clear();
                }

                _promTextFiles.Add(key, target);
            }

            return target;
        }
    }

    /// <summary>Keeps <paramref name="resource"/> until it is forgotten or the state is released.</summary>
    public T Track<T>(T resource)
        where T : IDisposable
    {
        lock (_gate)
        {
            _resources.Add(resource);
        }

        return resource;
    }

    /// <summary>Stops tracking a resource its owner closed.</summary>
    public void Forget(IDisposable resource)
    {
        lock (_gate)
        {
            _resources.Remove(resource);
        }
    }

    /// <summary>The tracked resources of type <typeparamref name="T"/>, oldest first.</summary>
    public IReadOnlyList<T> Tracked<T>()
    {
        lock (_gate)
        {
            return _resources.OfType<T>().ToArray();
        }
    }

    private static int Release(Guid runspaceId) =>
        ByRunspace.TryRemove(runspaceId, out var state) ? state.ReleaseAll() : 0;

    /// <summary>Closes everything this state holds, newest first; returns how many resources were released.</summary>
    internal int ReleaseAll()
    {
        IDisposable[] resources;
        lock (_gate)
        {
            resources = _resources.ToArray();
            _resources.Clear();
            _schedReader = null;
            _powerReader = null;
            _legacyByConfig.Clear();
            _promTextFiles.Clear();
        }

        // Newest first: a probe opened after a session may use what the session set up.
        for (var i = resources.Length - 1; i >= 0; i--)
        {
            resources[i].Dispose();
        }

        return resources.Length;
    }
}

/// <summary>Remove-Module releases what the removing runspace holds (perf fds, probes, procfs files).</summary>
public sealed class ModuleStateCleanup : IModuleAssemblyCleanup
{
    public void OnRemove(PSModuleInfo psModuleInfo) => ModuleState.ReleaseCurrent();
}

/// <summary>One Export-PromTextFile endpoint: its atomic file writer and its renderer (whose series keys persist across calls).</summary>
internal sealed class PromTextFileTarget(string path, string prefix)
{
    private readonly TextFileWriter _file = new(path);
    private readonly PromTextWriter _writer = new(prefix);

    /// <summary>Renders and replaces the file; one call at a time (the writer is not thread-safe).</summary>
    public PromWriteResult Write(MetricSet metrics)
    {
        lock (_writer)
        {
            return _file.Write(metrics, _writer);
        }
    }
}
