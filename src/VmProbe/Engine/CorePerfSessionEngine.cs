using VmProbe.Config;
using VmProbe.Perf;

namespace VmProbe.Commands.Engine;

/// <summary>Perf sessions over the runner's perf source (<see cref="PerfSourceSession"/>), sharing one fd budget.</summary>
internal sealed class CorePerfSessionEngine : IPerfSessionEngine
{
    private static readonly PerfFdBudget Budget = new();

    public IPerfCounterSession Open(
        IReadOnlyList<PerfEventSpec> events, IReadOnlyList<VmDomain> domains, bool includeHost, PerfAttribution attribution, bool perCpu,
        ICollection<VmProbeException> errors, IProbeLog log) =>
        new Session(PerfSourceSession.Open(events, domains, includeHost, attribution, perCpu, errors, log, Budget));

    private sealed class Session : IPerfCounterSession
    {
        private readonly PerfSourceSession _session;

        public Session(PerfSourceSession session) => _session = session;

        public int OpenFds => _session.OpenFds;

        public IReadOnlyList<VmDomain> CountedDomains => _session.CountedDomains;

        public bool IsEmpty => _session.IsEmpty;

        public IReadOnlyList<VmPerfSample> Read(bool perVcpu, DateTimeOffset timestamp, ICollection<VmProbeException> errors) =>
            _session.Read(perVcpu, timestamp);

        public void Dispose() => _session.Dispose();
    }
}
