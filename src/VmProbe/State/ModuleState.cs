using System.Collections.Concurrent;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using VmProbe.Config;
using VmProbe.Perf;
using VmProbe.Procfs;

namespace VmProbe.Commands;

/// <summary>
/// Everything the module keeps between commands, one instance per runspace (PSOpenAD's GlobalState, scoped to the
/// runspace so that a thread job's probe is not closed by the session that started it): the perf sessions, the open
/// probes, the procfs reader whose per-domain totals must survive exited threads and Export-PromTextFile's legacy
/// transforms (previous perf values per config object). Released when its runspace closes
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

    /// <summary>Export-PromTextFile's <c>naming: legacy</c> transform for <paramref name="config"/>: one per config object, kept across calls.</summary>
    public LegacyExpositionState LegacyExpositionFor(ProbeConfig config) =>
        _legacyByConfig.GetValue(config, c => new LegacyExpositionState(c));

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
            _legacyByConfig.Clear();
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
