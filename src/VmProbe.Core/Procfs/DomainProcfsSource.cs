using System.Globalization;
using System.Runtime.InteropServices;

namespace VmProbe.Procfs;

/// <summary>
/// Per-domain and per-vCPU scheduler, fault and guest-time counters from procfs (source name <c>procfs</c>), read from
/// /proc/PID/task/TID/{schedstat,stat} of every thread of each domain's QEMU process.
/// </summary>
/// <remarks>
/// The process-level /proc/PID/schedstat covers the main thread only; summing the task files is what gives the whole
/// VM. Threads come and go (worker pools, I/O threads): the last values of a thread that exited are kept in a
/// per-domain retired total, so that the domain counters never go backwards. State is keyed by (uuid, pid) and dropped
/// when the domain is not in the cycle's list; a restarted domain (new pid) starts from zero like any counter reset.
/// A domain without a pid (libvirt could not tell it) or whose process vanished is skipped for the cycle.
/// Per-vCPU series follow the vCPU's current thread: a vCPU that is unplugged and plugged again restarts at zero.
/// </remarks>
internal sealed class DomainProcfsSource : IMetricSource
{
    public const string SourceName = "procfs";

    private readonly DomainProcfsSampler _sampler;
    private readonly Dictionary<DomainKey, DomainState> _domains = new();
    private readonly List<DomainKey> _gone = new();
    private readonly List<int> _exitedThreads = new();
    private readonly bool _forgetUnlisted;
    private long _cycle;

    /// <param name="root">Root of the proc tree (fixtures in tests).</param>
    /// <param name="forgetUnlisted">
    /// True (the runner): a domain not in the cycle's list is forgotten. False (Read-VmSchedStat, where each call may name
    /// other domains): a domain's state is kept until its QEMU process is gone, so its counters never go backwards.
    /// </param>
    public DomainProcfsSource(string root = "/", bool forgetUnlisted = true)
    {
        _sampler = new DomainProcfsSampler(root);
        _forgetUnlisted = forgetUnlisted;
    }

    public string Name => SourceName;

    /// <summary>Domains whose state (retired totals, reused buffers) is kept; for tests and diagnostics.</summary>
    public int TrackedDomainCount => _domains.Count;

    public void Collect(CycleContext context, MetricSet metrics)
    {
        var cycle = ++_cycle;
        var families = new Families(metrics);
        _sampler.BeginCycle();
        try
        {
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

    public void Dispose() => _sampler.Dispose();

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
            slot ??= new DomainState();
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

    private bool TrySample(CycleContext context, VmDomain domain, DomainState state)
    {
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

    private static void Log(CycleContext context, LogLevel level, string message)
    {
        if (context.Log.IsEnabled(level))
        {
            context.Log.Write(level, message);
        }
    }

    private readonly record struct DomainKey(Guid Uuid, int Pid);

    private struct TrackedThread
    {
        public ulong StartTimeTicks;
        public long SeenCycle;
        public TaskCounters Counters;
    }

    /// <summary>What is kept per domain between cycles; allocated once per domain, reused while it runs.</summary>
    private sealed class DomainState
    {
        private readonly Dictionary<int, TrackedThread> _threads = new();
        private string[][] _vcpuLabels = Array.Empty<string[]>();
        private int[] _vcpuIndexes = Array.Empty<int>();
        private string? _name;
        private Guid _uuid;

        /// <summary>Last values of the threads that exited since the domain was first seen.</summary>
        private TaskCounters _retired;

        public TaskCounters Retired => _retired;

        public DomainProcfsSample Sample { get; } = new();

        public long SeenCycle { get; set; }

        public bool Failing { get; set; }

        public string[] Labels { get; private set; } = Array.Empty<string>();

        public void UpdateLabels(VmDomain domain)
        {
            if (_name == domain.Name && _uuid == domain.Uuid)
            {
                return;
            }

            _name = domain.Name;
            _uuid = domain.Uuid;
            // A domain found by process scan without -uuid has none: an empty label rather than a made-up zero uuid.
            Labels = new[] { domain.Name, domain.Uuid == Guid.Empty ? string.Empty : domain.Uuid.ToString("D") };
            Array.Clear(_vcpuLabels);
        }

        /// <summary>The labels of the vCPU at <paramref name="position"/> of <see cref="VmDomain.Vcpus"/>, cached per position.</summary>
        public string[] VcpuLabels(int position, int index)
        {
            if (position >= _vcpuLabels.Length)
            {
                Array.Resize(ref _vcpuLabels, position + 1);
                Array.Resize(ref _vcpuIndexes, position + 1);
            }

            ref var labels = ref _vcpuLabels[position];
            if (labels is null || _vcpuIndexes[position] != index)
            {
                labels = new[] { Labels[0], Labels[1], index.ToString(CultureInfo.InvariantCulture) };
                _vcpuIndexes[position] = index;
            }

            return labels;
        }

        /// <summary>Folds this cycle's threads into the tracked set and returns the domain total (live threads plus retired ones).</summary>
        public TaskCounters Advance(long cycle, List<int> exited)
        {
            foreach (ref readonly var thread in Sample.Threads)
            {
                ref var tracked = ref CollectionsMarshal.GetValueRefOrAddDefault(_threads, thread.ThreadId, out var existed);
                if (existed && tracked.StartTimeTicks != thread.StartTimeTicks)
                {
                    // The id was reused by a new thread between two cycles: the old one exited.
                    _retired.Add(tracked.Counters);
                }

                tracked.StartTimeTicks = thread.StartTimeTicks;
                tracked.SeenCycle = cycle;
                tracked.Counters = thread.Counters;
            }

            foreach (var (tid, tracked) in _threads)
            {
                if (tracked.SeenCycle != cycle)
                {
                    _retired.Add(tracked.Counters);
                    exited.Add(tid);
                }
            }

            foreach (var tid in exited)
            {
                _threads.Remove(tid);
            }

            exited.Clear();
            var total = _retired;
            total.Add(Sample.Total);
            return total;
        }
    }

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

        public void AddDomain(DomainState state, in TaskCounters total, int threads)
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
