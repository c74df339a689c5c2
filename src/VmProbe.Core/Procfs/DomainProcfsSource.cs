using System.Globalization;
using System.Runtime.InteropServices;
using VmProbe.Bpf;
using VmProbe.Native;

namespace VmProbe.Procfs;

/// <summary>
/// Per-domain and per-vCPU scheduler, fault and guest-time counters from procfs (source name <c>procfs</c>), read from
/// /proc/PID/task/TID/{schedstat,stat} of every thread of each domain's QEMU process, or, where eBPF loads and the
/// caller asks for it, from one BPF task iterator read per cycle (<see cref="TaskIteratorSampler"/>: the same kernel
/// fields, the same units), chosen at the first cycle and logged once.
/// </summary>
/// <remarks>
/// The process-level /proc/PID/schedstat covers the main thread only; summing the task files is what gives the whole
/// VM. Threads come and go (worker pools, I/O threads): the last values of a thread that exited are kept in a
/// per-domain retired total, so that the domain counters never go backwards. State is keyed by (uuid, pid) and dropped
/// when the domain is not in the cycle's list; a restarted domain (new pid) starts from zero like any counter reset.
/// A domain without a pid (libvirt could not tell it) or whose process vanished is skipped for the cycle.
/// Per-vCPU series follow the vCPU's current thread: a vCPU that is unplugged and plugged again restarts at zero.
/// </remarks>
internal sealed class DomainProcfsSource : IMetricSource, IEarlySetup
{
    public const string SourceName = "procfs";

    private readonly DomainProcfsSampler _sampler;
    private readonly Dictionary<DomainKey, DomainProcfsState> _domains = new();
    private readonly List<DomainKey> _gone = new();
    private readonly List<int> _exitedThreads = new();
    private readonly bool _forgetUnlisted;
    private readonly Func<TaskIterator>? _openIterator;
    private TaskIteratorSampler? _iterator;
    private ThreadListingCache? _bulkListings; // where the iterator is offered as the bulk thread lister
    private long _cycle;

    /// <param name="root">Root of the proc tree (fixtures in tests).</param>
    /// <param name="forgetUnlisted">
    /// True (the runner): a domain not in the cycle's list is forgotten. False (Read-VmSchedStat, where each call may name
    /// other domains): a domain's state is kept until its QEMU process is gone, so its counters never go backwards.
    /// </param>
    /// <param name="openIterator">
    /// Opens the BPF task iterator to read threads with (null: files only). It is tried once, at the first cycle; when it
    /// throws <see cref="BpfException"/> the source reads files from then on.
    /// </param>
    public DomainProcfsSource(string root = "/", bool forgetUnlisted = true, Func<TaskIterator>? openIterator = null)
    {
        _sampler = new DomainProcfsSampler(root);
        _forgetUnlisted = forgetUnlisted;
        _openIterator = openIterator;
        Reader = openIterator is null ? ThreadReader.Files : ThreadReader.NotChosen;
    }

    /// <summary>The runner's form: on the real host (root "/") a BPF task iterator is tried at the first cycle.</summary>
    public static DomainProcfsSource WithTaskIterator(string root = "/") =>
        new(root, openIterator: root == "/" ? () => TaskIterator.Open() : null);

    /// <summary>How threads are read: chosen at the first cycle when an iterator was offered.</summary>
    public ThreadReader Reader { get; private set; }

    public string Name => SourceName;

    /// <summary>Task iterator reads since start (for tests: one per cycle, whether the discovery or this source made it).</summary>
    internal long IteratorReads => _iterator?.Reads ?? 0;

    /// <summary>Domains whose state (retired totals, reused buffers) is kept; for tests and diagnostics.</summary>
    public int TrackedDomainCount => _domains.Count;

    public void Collect(CycleContext context, MetricSet metrics)
    {
        var cycle = ++_cycle;
        var families = new Families(metrics);
        _sampler.BeginCycle();
        try
        {
            BeginIteratorCycle(context);
            _deniedThisCycle = 0;
            _deniedExample = null;
            CollectDomains(context, families, cycle);
            ReportDenied(context);
        }
        finally
        {
            _sampler.EndCycle();
        }

        foreach (var (key, state) in _domains)
        {
            if (state.SeenCycle != cycle && (_forgetUnlisted || !ProcessExists(key.Pid)))
            {
                _gone.Add(key);
            }
        }

        foreach (var key in _gone)
        {
            _domains.Remove(key);
        }

        _gone.Clear();
    }

    public void Dispose()
    {
        WithdrawBulkLister();
        _iterator?.Dispose();
        _iterator = null;
        _sampler.Dispose();
    }

    /// <summary>Procfs fds kept open across cycles (per-thread schedstat and stat); for tests and diagnostics.</summary>
    public int KeptFdCount => _sampler.KeptFdCount;

    private int _deniedThisCycle;
    private string? _deniedExample;
    private bool _deniedReported;

    private void CollectDomains(CycleContext context, Families families, long cycle)
    {
        foreach (var domain in context.Domains)
        {
            if (domain.Pid <= 0)
            {
                continue;
            }

            var key = new DomainKey(domain.Uuid, domain.Pid);
            ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_domains, key, out _);
            slot ??= new DomainProcfsState();
            var state = slot;
            if (state.SeenCycle == cycle)
            {
                Log(context, LogLevel.Debug, $"domain '{domain.Name}' (pid {domain.Pid}) listed twice; sampled once");
                continue;
            }

            state.SeenCycle = cycle;
            state.UpdateLabels(domain);
            if (!TrySample(context, domain, state))
            {
                continue;
            }

            var total = state.Advance(cycle, _exitedThreads);
            families.AddDomain(state, total, state.Sample.ThreadCount);
            context.Shared?.Get<DomainActivityShare>().SetCpuSeconds(domain.Uuid, total.RunNanoseconds / 1e9);
        }
    }

    /// <summary>The counters kept for the exited threads of a tracked domain (tests check the live path with it).</summary>
    internal bool TryGetRetired(VmDomain domain, out TaskCounters retired)
    {
        var found = _domains.TryGetValue(new DomainKey(domain.Uuid, domain.Pid), out var state);
        retired = found ? state!.Retired : default;
        return found;
    }

    private bool ProcessExists(int pid) =>
        Directory.Exists(Path.Combine(_sampler.Proc.ProcDirectory, pid.ToString(CultureInfo.InvariantCulture)));

    /// <summary>Opens the task iterator (its BTF parse and verification are most of a first cycle) and logs the choice once.</summary>
    public void SetUp(IProbeLog log)
    {
        if (Reader != ThreadReader.NotChosen)
        {
            return;
        }

        try
        {
            // Its program, map and link fds are held for good: under a small open-file limit (where even the
            // kept files are not kept) they would starve the rest of the process, so read files there.
            if (FdLimits.TryGetNoFileLimit(out var soft, out _) == 0 && soft < 2UL * FdLimits.DefaultReservedFds + 64)
            {
                throw new BpfUnavailableException(BpfUnavailableReason.NotSupported,
                    $"RLIMIT_NOFILE {soft} leaves no room for its fds", "bpf,EMFILE", ProbeErrorKind.ResourceUnavailable);
            }

            // The iterator reports the host's pids; inside a PID namespace /proc's differ, and the domains would be lost.
            if (ProcFs.InChildPidNamespace())
            {
                throw new BpfUnavailableException(BpfUnavailableReason.NotSupported,
                    "the probe runs in a PID namespace, whose pids are not the host's the iterator reports", "bpf,pidns", ProbeErrorKind.NotSupported);
            }

            _iterator = new TaskIteratorSampler(_openIterator!());
            Reader = ThreadReader.TaskIterator;
            Log(log, LogLevel.Info, $"procfs: per-thread data from a BPF task iterator (one read per cycle; it visits {_iterator.Description})");
        }
        catch (BpfException error)
        {
            Reader = ThreadReader.Files;
            Log(log, LogLevel.Info, $"procfs: no BPF task iterator ({error.Message}); reading /proc/PID/task/TID/schedstat and stat");
        }
    }

    /// <summary>Opens the iterator at the first cycle unless set up already, and runs it for this cycle's domains.</summary>
    private void BeginIteratorCycle(CycleContext context)
    {
        SetUp(context.Log);
        if (_iterator is null)
        {
            return;
        }

        var listings = context.Shared?.Get<ThreadListingCache>();
        try
        {
            _iterator.BeginCycle(context.Domains, listings);
            if (listings is not null)
            {
                // The next cycle's discovery lists every QEMU's threads through the iterator (one read for all).
                listings.Bulk = _iterator;
                _bulkListings = listings;
            }
        }
        catch (BpfException error)
        {
            // Not expected once loaded; the files still give every number, so switch for good and say so once.
            WithdrawBulkLister();
            _iterator.Dispose();
            _iterator = null;
            Reader = ThreadReader.Files;
            Log(context, LogLevel.Warning, $"procfs: the BPF task iterator failed ({error.Message}); reading /proc/PID/task files from now on");
        }
    }

    private void WithdrawBulkLister()
    {
        if (_bulkListings is not null && ReferenceEquals(_bulkListings.Bulk, _iterator))
        {
            _bulkListings.Bulk = null;
        }

        _bulkListings = null;
    }

    private bool TrySample(CycleContext context, VmDomain domain, DomainProcfsState state)
    {
        if (_iterator is not null && _iterator.TrySample(domain, state.Sample))
        {
            return true;
        }

        try
        {
            if (!_sampler.TrySample(domain, state.Sample, context.Shared?.Get<ThreadListingCache>()))
            {
                Log(context, LogLevel.Debug, $"domain '{domain.Name}': QEMU process {domain.Pid} is gone; no procfs series this cycle");
                return false;
            }
        }
        catch (ProcfsException error)
        {
            // Permission denied (not root) hits every VM alike: one summary line per cycle set, not one per VM.
            if (error.Kind == ProbeErrorKind.PermissionDenied)
            {
                _deniedThisCycle++;
                _deniedExample ??= $"domain '{domain.Name}': {error.Message}";
                return false;
            }

            // One unreadable domain must not cost the others their series; say it once until it reads again.
            if (!state.Failing)
            {
                Log(context, LogLevel.Warning, $"domain '{domain.Name}': {error.Message}; its procfs series are skipped");
            }

            state.Failing = true;
            return false;
        }

        if (state.Failing)
        {
            Log(context, LogLevel.Info, $"domain '{domain.Name}': procfs readable again");
            state.Failing = false;
        }

        return true;
    }

    /// <summary>One warning when domains become unreadable for lack of permission, one info line when none is any more.</summary>
    private void ReportDenied(CycleContext context)
    {
        if (_deniedThisCycle > 0 && !_deniedReported)
        {
            _deniedReported = true;
            Log(context, LogLevel.Warning,
                $"procfs: {_deniedThisCycle} domain(s) cannot be read: permission denied (run vmprobe as root); their procfs series are skipped. First: {_deniedExample}");
        }
        else if (_deniedThisCycle == 0 && _deniedReported)
        {
            _deniedReported = false;
            Log(context, LogLevel.Info, "procfs: every domain is readable again");
        }
    }

    private static void Log(CycleContext context, LogLevel level, string message) => Log(context.Log, level, message);

    private static void Log(IProbeLog log, LogLevel level, string message)
    {
        if (log.IsEnabled(level))
        {
            log.Write(level, message);
        }
    }

    private readonly record struct DomainKey(Guid Uuid, int Pid);

    /// <summary>The source's families for one cycle (looked up once per cycle, not per domain).</summary>
    private readonly struct Families
    {
        private readonly MetricFamily _run;
        private readonly MetricFamily _wait;
        private readonly MetricFamily _slices;
        private readonly MetricFamily _minor;
        private readonly MetricFamily _major;
        private readonly MetricFamily _guest;
        private readonly MetricFamily _threads;
        private readonly MetricFamily _vcpuRun;
        private readonly MetricFamily _vcpuWait;
        private readonly MetricFamily _vcpuSlices;

        public Families(MetricSet metrics)
        {
            _run = metrics.Family(DomainProcfsFamilies.SchedRunSeconds);
            _wait = metrics.Family(DomainProcfsFamilies.SchedWaitSeconds);
            _slices = metrics.Family(DomainProcfsFamilies.SchedTimeslices);
            _minor = metrics.Family(DomainProcfsFamilies.MinorPageFaults);
            _major = metrics.Family(DomainProcfsFamilies.MajorPageFaults);
            _guest = metrics.Family(DomainProcfsFamilies.CpuGuestSeconds);
            _threads = metrics.Family(DomainProcfsFamilies.Threads);
            _vcpuRun = metrics.Family(DomainProcfsFamilies.VcpuSchedRunSeconds);
            _vcpuWait = metrics.Family(DomainProcfsFamilies.VcpuSchedWaitSeconds);
            _vcpuSlices = metrics.Family(DomainProcfsFamilies.VcpuSchedTimeslices);
        }

        public void AddDomain(DomainProcfsState state, in TaskCounters total, int threads)
        {
            var labels = state.Labels;
            _run.Add(total.RunNanoseconds / 1e9, labels);
            _wait.Add(total.WaitNanoseconds / 1e9, labels);
            _slices.Add(total.Timeslices, labels);
            _minor.Add(total.MinorFaults, labels);
            _major.Add(total.MajorFaults, labels);
            _guest.Add(total.GuestTicks / ProcFs.ClockTicksPerSecond, labels);
            _threads.Add(threads, labels);

            var vcpus = state.Sample.Vcpus;
            for (var i = 0; i < vcpus.Length; i++)
            {
                ref readonly var vcpu = ref vcpus[i];
                if (!vcpu.Present)
                {
                    continue;
                }

                var vcpuLabels = state.VcpuLabels(i, vcpu.Index);
                _vcpuRun.Add(vcpu.Counters.RunNanoseconds / 1e9, vcpuLabels);
                _vcpuWait.Add(vcpu.Counters.WaitNanoseconds / 1e9, vcpuLabels);
                _vcpuSlices.Add(vcpu.Counters.Timeslices, vcpuLabels);
            }
        }
    }
}
