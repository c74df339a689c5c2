using System.Collections.Concurrent;
using System.Management.Automation.Runspaces;
using VmProbe.Commands.Engine;

namespace VmProbe;

/// <summary>
/// Perf counters opened by Start-VmPerfSession that stay open across commands until Stop-VmPerfSession,
/// the end of Start-VmProbe, or the module's removal closes them. Counts are cumulative since <see cref="StartTime"/>.
/// </summary>
public sealed class VmPerfSession : IDisposable
{
    private static readonly ConcurrentDictionary<int, VmPerfSession> OpenSessions = new();
    private static int _lastId;

    private readonly object _gate = new();
    private IPerfCounterSession? _counters;

    internal VmPerfSession(IPerfCounterSession counters, IReadOnlyList<string> events, IReadOnlyList<VmDomain> domains, bool includeHost)
    {
        _counters = counters;
        Id = Interlocked.Increment(ref _lastId);
        Events = events;
        Domains = domains;
        IncludeHost = includeHost;
        var targets = new List<string>(domains.Count + 1);
        if (includeHost)
        {
            targets.Add("host");
        }

        targets.AddRange(domains.Select(d => d.Name));
        Targets = targets;
        StartTime = DateTimeOffset.Now;
        // Module removal closes the sessions of the runspace that removes it, not those of other runspaces (thread jobs).
        OwnerRunspace = Runspace.DefaultRunspace?.InstanceId;
        OpenSessions[Id] = this;
    }

    /// <summary>Sessions not closed yet, in the order they were started.</summary>
    public static IReadOnlyList<VmPerfSession> Open => OpenSessions.Values.OrderBy(s => s.Id).ToArray();

    /// <summary>Process-wide session number, from 1.</summary>
    public int Id { get; }

    /// <summary>Canonical names of the events counted.</summary>
    public IReadOnlyList<string> Events { get; }

    /// <summary><c>host</c> (when counting the host) followed by the domain names.</summary>
    public IReadOnlyList<string> Targets { get; }

    public IReadOnlyList<VmDomain> Domains { get; }

    public bool IncludeHost { get; }

    public DateTimeOffset StartTime { get; }

    /// <summary>perf file descriptors held now; 0 once closed.</summary>
    public int OpenFds
    {
        get
        {
            lock (_gate)
            {
                return _counters?.OpenFds ?? 0;
            }
        }
    }

    public bool IsOpen => Volatile.Read(ref _counters) is not null;

    internal Guid? OwnerRunspace { get; }

    /// <summary>Closes the sessions owned by the calling runspace (every session when called outside one); returns how many.</summary>
    public static int CloseAll()
    {
        var owner = Runspace.DefaultRunspace?.InstanceId;
        var closed = 0;
        foreach (var session in OpenSessions.Values)
        {
            if (owner is null || session.OwnerRunspace is null || session.OwnerRunspace == owner)
            {
                if (session.Close())
                {
                    closed++;
                }
            }
        }

        return closed;
    }

    /// <summary>Closes every perf fd of the session; false when it was closed already.</summary>
    public bool Close()
    {
        IPerfCounterSession? counters;
        lock (_gate)
        {
            counters = _counters;
            _counters = null;
        }

        OpenSessions.TryRemove(Id, out _);
        counters?.Dispose();
        return counters is not null;
    }

    public void Dispose() => Close();

    public override string ToString() => $"VmPerfSession {Id} ({string.Join(",", Targets)})";

    internal IReadOnlyList<VmPerfSample> Read(bool perVcpu, DateTimeOffset timestamp, ICollection<VmProbeException> errors)
    {
        lock (_gate)
        {
            if (_counters is null)
            {
                throw new VmProbeException(
                    $"Perf session {Id} is closed; start a new one with Start-VmPerfSession.",
                    "perf_session,closed",
                    ProbeErrorKind.InvalidArgument)
                {
                    RecommendedAction = "Start a new session with Start-VmPerfSession.",
                };
            }

            return _counters.Read(perVcpu, timestamp, errors);
        }
    }
}
