using VmProbe.Config;
using VmProbe.Perf;
using VmProbe.Probe;

namespace VmProbe.Commands.Engine;

/// <summary>Perf sessions over <see cref="DomainPerfCounters"/>.</summary>
internal sealed class CorePerfSessionEngine : IPerfSessionEngine
{
    private static readonly PerfFdBudget Budget = new();

    public IPerfCounterSession Open(
        IReadOnlyList<PerfEventSpec> events, IReadOnlyList<VmDomain> domains, bool includeHost, PerfAttribution attribution, ICollection<VmProbeException> errors, IProbeLog log) =>
        new Session(DomainPerfCounters.Open(events, domains, includeHost, attribution, errors, log, Budget));

    private sealed class Session : IPerfCounterSession
    {
        private readonly DomainPerfCounters _counters;

        public Session(DomainPerfCounters counters) => _counters = counters;

        public int OpenFds => _counters.OpenFds;

        public IReadOnlyList<VmPerfSample> Read(bool perVcpu, DateTimeOffset timestamp, ICollection<VmProbeException> errors) =>
            _counters.Read(perVcpu, timestamp, errors);

        public void Dispose() => _counters.Dispose();
    }
}
