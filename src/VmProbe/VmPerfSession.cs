using VmProbe.Commands;
using VmProbe.Perf;

namespace VmProbe;

/// <summary>
/// Perf counters opened by Start-VmPerfSession that stay open across commands until Stop-VmPerfSession, or until the
/// module is removed from (or the runspace of) the session that opened them. Counts are cumulative since <see cref="StartTime"/>.
/// </summary>
public sealed class VmPerfSession : IDisposable
{
    private static int _lastId;

    private readonly object _gate = new();
    private PerfSourceSession? _counters;

    internal VmPerfSession(PerfSourceSession counters, IReadOnlyList<string> events)
    {
        _counters = counters;
        Id = Interlocked.Increment(ref _lastId);
        Events = events;
        Domains = counters.CountedDomains.ToArray();
        IncludeHost = counters.CountsHost;
        Targets = (IncludeHost ? new[] { "host" } : Array.Empty<string>()).Concat(Domains.Select(d => d.Name)).ToArray();
        StartTime = DateTimeOffset.Now;
        ModuleState.Current.Track(this);
    }

    /// <summary>The sessions this runspace opened and has not closed yet, oldest first.</summary>
    public static IReadOnlyList<VmPerfSession> Open => ModuleState.Current.Tracked<VmPerfSession>();

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

    /// <summary>Closes every perf fd of the session; false when it was closed already.</summary>
    public bool Close()
    {
        PerfSourceSession? counters;
        lock (_gate)
        {
            counters = _counters;
            _counters = null;
        }

        ModuleState.Current.Forget(this);
        counters?.Dispose();
        return counters is not null;
    }

    public void Dispose() => Close();

    public override string ToString() => $"VmPerfSession {Id} ({string.Join(",", Targets)})";

    internal IReadOnlyList<VmPerfSample> Read(bool perVcpu, DateTimeOffset timestamp)
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

            return _counters.Read(perVcpu, timestamp);
        }
    }
}
