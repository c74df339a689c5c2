using System.Globalization;
using VmProbe.Config;
using VmProbe.Native;
using VmProbe.Procfs;

namespace VmProbe.Kvm;

/// <summary>
/// KVM's own statistics per domain (or per vCPU): exits, halt polling and its histograms, page faults, TLB flushes,
/// injections... as the kernel names and describes them. Exactly one source serves a domain per cycle, the first that works:
/// <list type="number">
/// <item><b>binary</b>: the KVM binary statistics fds QEMU keeps open (QEMU 8.1+ keeps one per vCPU once anyone asked
/// QEMU for its stats, for example libvirt's VIR_DOMAIN_STATS_VM), found by their /proc/PID/fd link
/// (<c>anon_inode:kvm-vcpu-stats:N</c>) and duplicated with pidfd_open + pidfd_getfd (root); QEMU is not touched.</item>
/// <item><b>libvirt</b>: the hypervisor statistics of the libvirt source's bulk call this cycle (VIR_DOMAIN_STATS_VM and
/// the vcpu group's per-vCPU ones, libvirt 8.9+ with QEMU 7.1+), handed over in the cycle's <see cref="HypervisorStatsShare"/>:
/// scalars only, units from the names.</item>
/// <item><b>debugfs</b>: its <c>PID-FD</c> directory under <c>$VMPROBE_DEBUGFS/kvm</c> (<see cref="KvmDebugfs"/>);
/// debugfs' top-level files are also the host totals (<c>host_kvm_*</c>).</item>
/// </list>
/// The serving source is the <c>source</c> label of <c>domain_kvm_stats_info</c> and is logged once per domain and source;
/// domains no source serves are summed up in one line (<c>KvmStatsSource.Unserved.cs</c>).
/// A domain without stats fds is looked at again every <see cref="RescanCycles"/> cycles if its fd count changed; a stats fd whose blob breaks
/// the layout is reported once and skipped while its process lives. Duplicated fds count in the process' fd budget
/// (<c>FdLimits</c>) and are closed when their domain disappears (they keep the VM's kernel object alive).
/// </summary>
public sealed partial class KvmStatsSource : IWarmUpSource
{
    public const string SourceName = "kvm";

    /// <summary>Cycles between two looks for the stats fds of a domain that had none.</summary>
    internal const int RescanCycles = 12;

    /// <summary>Looks at a process' fd directory for stats fds since start (for tests and diagnostics).</summary>
    internal long FdLooks { get; private set; }

    /// <summary>Looks skipped at most in a row because the process' fd count did not change.</summary>
    internal const int FullRescanEvery = 10;

    private readonly KvmStatsMode _mode;
    private readonly Func<string, bool>? _allow;
    private readonly IProbeLog _log;
    private readonly string _procRoot;
    private readonly ProcFs _proc;
    private readonly Func<string, bool> _isStatsLink;
    private readonly Dictionary<int, KvmDomainState> _domains = new();
    private readonly HashSet<int> _present = new();
    private readonly HashSet<string> _logged = new(StringComparer.Ordinal); // host-wide keys only: a fixed small set
    private readonly KvmDebugfs _debugfs;
    private bool _pidFdUnavailable;

    public KvmStatsSource(KvmStatsOptions options, IProbeLog? log = null, string root = "/")
        : this(options.Mode, options.Allow, log, root, KvmStatsFd.IsKernelStatsLink, new KvmDebugfs())
    {
    }

    /// <param name="isStatsLink">Which /proc/PID/fd link texts are stats fds (tests accept memfds named like them).</param>
    internal KvmStatsSource(
        KvmStatsMode mode, IReadOnlyList<string> allow, IProbeLog? log, string root, Func<string, bool> isStatsLink, KvmDebugfs? debugfs = null)
    {
        _debugfs = debugfs ?? new KvmDebugfs();
        _mode = mode;
        _allow = KvmStatsFilter.Create(allow);
        _log = log ?? NullProbeLog.Instance;
        _procRoot = Path.Combine(root, "proc");
        _proc = new ProcFs(root);
        _isStatsLink = isStatsLink;
    }

    public string Name => SourceName;

    /// <summary>Stats fds held open now (all domains).</summary>
    internal int OpenFds => _domains.Values.Sum(d => d.Fds.Count);

    /// <summary>Processes this source keeps state (fds, bad fds, log keys) for.</summary>
    internal int TrackedProcesses => _domains.Count;

    /// <summary>How often the per-domain sums were planned (once per set of fds); for tests.</summary>
    internal int SumPlans => _domains.Values.Sum(d => d.Sums.Plans);

    /// <summary>Log-once keys held now, host-wide and per process.</summary>
    internal int LogKeys => _logged.Count + _domains.Values.Sum(d => d.Logged.Count);

    public void Collect(CycleContext context, MetricSet metrics)
    {
        if (_mode == KvmStatsMode.Off)
        {
            return;
        }

        if (_debugfs.Usable)
        {
            if (_debugfs.MountedHere)
            {
                LogOnce("debugfsmounted", LogLevel.Info, $"kvm: mounted debugfs at {_debugfs.MountPoint} (it was not mounted).");
            }

            KvmStatsEmitter.AddHost(metrics, _debugfs.ReadHost(), _allow);
        }
        else
        {
            LogOnce("nodebugfs", LogLevel.Info,
                $"kvm: no KVM debugfs: {_debugfs.Check() ?? $"{_debugfs.KvmDirectory} went away"}; no host_kvm_* totals and no debugfs fallback.");
        }

        var share = context.Shared?.Get<HypervisorStatsShare>();
        var present = _present;
        present.Clear();
        foreach (var domain in context.Domains)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            if (domain.Pid <= 0)
            {
                continue;
            }

            present.Add(domain.Pid);
            CollectDomain(context, metrics, domain, share);
        }

        ReportUnserved(share);

        foreach (var pid in _domains.Keys.Where(pid => !present.Contains(pid)).ToList())
        {
            Forget(pid);
        }
    }

    public void Dispose()
    {
        foreach (var pid in _domains.Keys.ToList())
        {
            Forget(pid);
        }

        _proc.Dispose();
    }

    private void CollectDomain(CycleContext context, MetricSet metrics, VmDomain domain, HypervisorStatsShare? share)
    {
        var state = EnsureOpen(context, domain);
        var uuid = domain.UuidLabel;
        string source;
        var snapshots = state.Fds.Count > 0 ? ReadBinary(context, domain, state) : null;
        if (snapshots is not null)
        {
            source = "binary";
            var skipped = state.Fds.Sum(f => f.Layout.Skipped.Count);
            if (skipped > 0)
            {
                metrics.Family(KvmFamilies.StatsSkipped).Add(skipped, domain.Name, uuid);
            }
        }
        else if (domain.Uuid != Guid.Empty && share?.For(domain.Uuid) is { } fromLibvirt)
        {
            source = "libvirt";
            snapshots = KvmLibvirtStats.ToSnapshots(fromLibvirt);
        }
        else if (_debugfs.Usable && _debugfs.ReadVm(domain.Pid) is { } fromDebugfs)
        {
            source = "debugfs";
            snapshots = new List<KvmStatsSnapshot> { fromDebugfs };
        }
        else
        {
            LogSource(domain, state, "none", share);
            return;
        }

        KvmStatsEmitter.AddDomain(metrics, _mode == KvmStatsMode.Vcpu && source != "debugfs", domain.Name, uuid, snapshots, _allow,
            source == "binary" ? state.Sums : null);
        metrics.Family(KvmFamilies.StatsInfo).Add(1, domain.Name, uuid, source);
        LogSource(domain, state, source, share);
    }

    /// <summary>Every fd's data block, or null (fds closed, the failing one remembered as bad) when one read fails.</summary>
    private List<KvmStatsSnapshot>? ReadBinary(CycleContext context, VmDomain domain, KvmDomainState state)
    {
        var snapshots = state.Snapshots;
        snapshots.Clear();
        foreach (var fd in state.Fds)
        {
            try
            {
                snapshots.Add(fd.Read());
            }
            catch (KvmStatsException ex)
            {
                MarkBad(context, domain, state, fd.Link, ex);
                state.CloseFds();
                return null;
            }
        }

        return snapshots;
    }

    /// <summary>Remembers a stats fd whose blob broke the layout (or whose read failed) and reports it once.</summary>
    private void MarkBad(CycleContext context, VmDomain domain, KvmDomainState state, KvmStatsFdLink link, KvmStatsException error)
    {
        if (state.Bad.Add(link))
        {
            Report(context, domain, state, error);
        }
    }

    private void Report(CycleContext context, VmDomain domain, KvmDomainState state, KvmStatsException error)
    {
        if (!state.Logged.Add("error:" + error.ErrorId + ":" + error.Target))
        {
            return; // counted and logged once per process
        }

        context.ItemErrors?.Add(error);
        if (_log.IsEnabled(LogLevel.Warning))
        {
            _log.Write(LogLevel.Warning,
                $"kvm: domain '{domain.Name}' (QEMU pid {domain.Pid.ToString(CultureInfo.InvariantCulture)}): {error.Message} [{error.ErrorId}]");
        }
    }

    private KvmDomainState StateOf(int pid, out bool isNew)
    {
        isNew = false;
        if (!_domains.TryGetValue(pid, out var state))
        {
            isNew = true;
            state = new KvmDomainState(StartTicks(pid));
            _domains.Add(pid, state);
        }

        return state;
    }

    /// <summary>
    /// Whether the process has as many fds open as at the last look (Linux 6.2+ reports the count as the size of
    /// /proc/PID/fd, one statx), so that looking again (a listing and a readlink per fd) can be skipped: QEMU opens stats
    /// fds, it does not swap them for others. Every <see cref="FullRescanEvery"/>th look is made anyway.
    /// </summary>
    private bool FdsUnchanged(int pid, KvmDomainState state)
    {
        if (_procRoot != "/proc")
        {
            return false; // fixture trees are plain directories, whose size is not a count
        }

        var count = VmProbe.Native.ProcessFds.CountFromDirectorySize(pid);
        if (count > 0 && count == state.FdCountAtLastLook && state.LooksSkipped < FullRescanEvery - 1)
        {
            state.LooksSkipped++;
            return true;
        }

        state.FdCountAtLastLook = count;
        state.LooksSkipped = 0;
        return false;
    }

    /// <summary>Whether the pid now belongs to another process than the state was made for; then the state is dropped.</summary>
    private bool ProcessChanged(int pid, KvmDomainState state)
    {
        if (StartTicks(pid) == state.StartTicks)
        {
            return false;
        }

        Forget(pid);
        return true;
    }

    private ulong StartTicks(int pid)
    {
        try
        {
            return _proc.TryReadProcessStat(pid, out var stat) ? stat.StartTimeTicks : 0;
        }
        catch (VmProbeException)
        {
            return 0;
        }
    }

    private void Forget(int pid)
    {
        _unservedReported.Remove(pid); // a new process under this pid is new to the summary
        if (_domains.Remove(pid, out var state))
        {
            state.Dispose();
        }
    }

    private void LogOnce(KvmDomainState state, string key, LogLevel level, string message)
    {
        if (state.Logged.Add(key) && _log.IsEnabled(level))
        {
            _log.Write(level, message);
        }
    }

    private void LogOnce(string key, LogLevel level, string message)
    {
        if (_logged.Add(key) && _log.IsEnabled(level))
        {
            _log.Write(level, message);
        }
    }
}
