using VmProbe.Procfs;

namespace VmProbe.Kvm.Exits;

/// <summary>
/// VM exits by reason per domain (and vCPU), their handling time, and the other KVM events (issue 13). The tracer is
/// chosen on the first cycle (<see cref="KvmExitTracers.Choose"/>: eBPF, else the perf-filter fallback, else none), said
/// in one log line and in <c>probe_kvm_exits_mode_info</c>; a host where neither runs keeps probing without exit series.
/// Every cycle the domains' vCPU threads are handed to the tracer, processes no longer listed are forgotten.
/// </summary>
public sealed class KvmExitsSource : IMetricSource, IEarlySetup
{
    public const string SourceName = "kvmexits";

    private readonly KvmExitsOptions _options;
    private readonly IProbeLog _log;
    private readonly string _procRoot;
    private readonly Func<KvmExitTracerChoice> _choose;
    private readonly HashSet<int> _tracked = new();
    private readonly HashSet<int> _present = new();
    private KvmExitTracerChoice? _choice;

    // The mode series' two labels (the mode running, the mode asked for), made once with the choice.
    private string[]? _modeLabels;

    public KvmExitsSource(KvmExitsOptions options, IProbeLog? log = null, string root = "/")
        : this(options, log, root, null)
    {
    }

    internal KvmExitsSource(KvmExitsOptions options, IProbeLog? log, string root, KvmExitTracerFactory? bpf, KvmExitTracerFactory? perfFilter = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _log = log ?? NullProbeLog.Instance;
        _procRoot = Path.Combine(root, "proc");
        _choose = () => KvmExitTracers.Choose(_options, _log, bpf, perfFilter);
    }

    public string Name => SourceName;

    /// <summary>The mode running (Off until the first cycle chose).</summary>
    public KvmExitTracerMode Mode => _choice?.Mode ?? KvmExitTracerMode.Off;

    /// <summary>Chooses and loads the tracer (its eBPF load is the slowest set-up of a first cycle); logs the choice once.</summary>
    void IEarlySetup.SetUp(IProbeLog log) => Choose();

    public void Collect(CycleContext context, MetricSet metrics)
    {
        Choose();
        metrics.Family(KvmExitFamilies.Mode).Add(1, _modeLabels![0], _modeLabels[1]);
        if (_choice!.Tracer is not { } tracer)
        {
            return;
        }

        var present = _present;
        present.Clear();
        foreach (var domain in context.Domains)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            if (domain.Pid > 0 && present.Add(domain.Pid) && tracer.TracksThreads)
            {
                tracer.Track(domain.Pid, VcpuThreads(domain).Keys.ToList());
            }
        }

        if (!_tracked.IsSubsetOf(present))
        {
            foreach (var gone in _tracked.Where(pid => !present.Contains(pid)).ToList())
            {
                tracer.Forget(gone);
                _tracked.Remove(gone);
            }
        }

        _tracked.UnionWith(present);
        KvmExitsEmitter.Add(metrics, tracer.Snapshot(), context.Domains, _options, VcpuThreads);
    }

    private void Choose()
    {
        if (_choice is not null)
        {
            return;
        }

        _choice = _choose();
        _modeLabels = new[] { KvmExitTracers.ModeName(_choice.Mode), _options.Mode.ToString().ToLowerInvariant() };
        if (_log.IsEnabled(_choice.Tracer is null ? LogLevel.Warning : LogLevel.Info))
        {
            _log.Write(_choice.Tracer is null ? LogLevel.Warning : LogLevel.Info, _choice.Why);
        }
    }

    public void Dispose()
    {
        _choice?.Tracer?.Dispose();
        _tracked.Clear();
    }

    /// <summary>vCPU thread id -> vCPU index: what discovery found, else the threads QEMU named <c>CPU N/ACCEL</c>.</summary>
    internal IReadOnlyDictionary<int, int> VcpuThreads(VmDomain domain)
    {
        var threads = new Dictionary<int, int>();
        foreach (var vcpu in domain.Vcpus)
        {
            if (vcpu.ThreadId > 0)
            {
                threads.TryAdd(vcpu.ThreadId, vcpu.Index);
            }
        }

        if (threads.Count > 0)
        {
            return threads;
        }

        try
        {
            foreach (var task in Directory.EnumerateDirectories(Path.Combine(_procRoot, domain.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "task")))
            {
                if (int.TryParse(Path.GetFileName(task), out var tid) && File.Exists(Path.Combine(task, "comm"))
                    && QemuThread.TryParseVcpuIndex(File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n'), out var index))
                {
                    threads.TryAdd(tid, index);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The process went, or a thread went while listing: no vCPU threads this cycle.
        }

        return threads;
    }
}
