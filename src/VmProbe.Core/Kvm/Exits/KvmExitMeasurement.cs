
namespace VmProbe.Kvm.Exits;

/// <summary>
/// <c>perf kvm stat live</c> for scripts (the engine of <c>Measure-VmKvmExit</c>): opens the tracer the runner would
/// (eBPF, else perf-filter), tracks the domains' vCPU threads, and turns the difference of two snapshots into one
/// <see cref="VmKvmExitStat"/> per domain and reason, each domain's reasons by count, most first (perf kvm stat's order).
/// </summary>
public sealed class KvmExitMeasurement : IDisposable
{
    private readonly IKvmExitTracer _tracer;
    private readonly KvmExitsSource _threads;
    private IReadOnlyList<VmDomain> _domains = Array.Empty<VmDomain>();
    private KvmExitSnapshot _last = KvmExitSnapshot.Empty;
    private DateTimeOffset _lastTime;

    private KvmExitMeasurement(IKvmExitTracer tracer, KvmExitsOptions options)
    {
        _tracer = tracer;
        _threads = new KvmExitsSource(options);
    }

    /// <summary>bpf-latency, bpf-counts or perf-filter.</summary>
    public string Mode => KvmExitTracers.ModeName(_tracer.Mode);

    public string Description => _tracer.Description;

    /// <summary>Opens a tracer for latency (counts where only counts run); throws <see cref="KvmExitTracerUnavailableException"/> when none runs here.</summary>
    public static KvmExitMeasurement Open(IReadOnlyList<string>? reasons = null, IProbeLog? log = null)
    {
        var options = new KvmExitsOptions { Mode = KvmExitsMode.Latency, Reasons = reasons ?? Array.Empty<string>() };
        var choice = KvmExitTracers.Choose(options, log ?? NullProbeLog.Instance);
        return choice.Tracer is { } tracer
            ? new KvmExitMeasurement(tracer, options)
            : throw new KvmExitTracerUnavailableException(choice.Why, "kvmexits,unavailable");
    }

    /// <summary>Starts (or restarts) the interval for <paramref name="domains"/>.</summary>
    public void Start(IReadOnlyList<VmDomain> domains)
    {
        _domains = domains;
        foreach (var domain in domains.Where(d => d.Pid > 0))
        {
            _tracer.Track(domain.Pid, _threads.VcpuThreads(domain).Keys.ToList());
        }

        _last = _tracer.Snapshot();
        _lastTime = DateTimeOffset.Now;
    }

    /// <summary>The interval since <see cref="Start"/> or the previous call; the next interval starts now.</summary>
    public IReadOnlyList<VmKvmExitStat> Next()
    {
        foreach (var domain in _domains.Where(d => d.Pid > 0))
        {
            _tracer.Track(domain.Pid, _threads.VcpuThreads(domain).Keys.ToList());
        }

        var now = _tracer.Snapshot();
        var time = DateTimeOffset.Now;
        var stats = KvmExitReport.Compute(_domains, _last, now, time - _lastTime, Mode, time);
        (_last, _lastTime) = (now, time);
        return stats;
    }

    public void Dispose()
    {
        _tracer.Dispose();
        _threads.Dispose();
    }
}

/// <summary>The report of <see cref="KvmExitMeasurement"/>: deltas of two snapshots per domain and reason.</summary>
public static class KvmExitReport
{
    public static IReadOnlyList<VmKvmExitStat> Compute(
        IReadOnlyList<VmDomain> domains, KvmExitSnapshot before, KvmExitSnapshot after, TimeSpan interval, string mode, DateTimeOffset timestamp)
    {
        ArgumentNullException.ThrowIfNull(domains);
        var then = ProcessExits.Group(before);
        var now = ProcessExits.Group(after);
        var stats = new List<VmKvmExitStat>();
        var seconds = interval.TotalSeconds;
        foreach (var domain in domains)
        {
            if (domain.Pid <= 0 || !now.TryGetValue(domain.Pid, out var current))
            {
                continue;
            }

            var previous = then.GetValueOrDefault(domain.Pid);
            var counts = current.ByReason.ToDictionary(r => r.Key, r => Delta(r.Value, previous?.ByReason.GetValueOrDefault(r.Key) ?? 0));
            var total = counts.Values.Aggregate(0UL, (a, b) => a + b);
            foreach (var (reason, count) in counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal))
            {
                LatencyEstimate? latency = null;
                if (current.Latency.TryGetValue(reason, out var histogram))
                {
                    latency = Log2HistogramConversion.Estimate(
                        previous?.Latency.TryGetValue(reason, out var earlier) == true ? histogram.Since(earlier) : histogram);
                }

                stats.Add(new VmKvmExitStat
                {
                    Domain = domain.Name,
                    Uuid = domain.Uuid,
                    Reason = reason,
                    Count = count,
                    Rate = seconds > 0 ? count / seconds : 0,
                    Share = total > 0 ? 100.0 * count / total : 0,
                    MinUs = latency?.Min * 1e6,
                    MeanUs = latency?.Mean * 1e6,
                    MaxUs = latency?.Max * 1e6,
                    P99Us = latency?.P99 * 1e6,
                    Interval = interval,
                    Mode = mode,
                    Timestamp = timestamp,
                });
            }
        }

        return stats;
    }

    // A counter that went backwards was reset (a tracer restarted): what it holds now is the interval's.
    private static ulong Delta(ulong now, ulong then) => now >= then ? now - then : now;
}
