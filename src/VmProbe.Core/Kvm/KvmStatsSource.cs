using System.Globalization;
using VmProbe.Config;
using VmProbe.Native;

namespace VmProbe.Kvm;

/// <summary>
/// KVM's own statistics per domain (or per vCPU): exits, halt polling and its histograms, page faults, TLB flushes,
/// injections... as the kernel names and describes them. Source per domain, as it works:
/// <list type="number">
/// <item><b>binary</b>: the KVM binary statistics fds QEMU keeps open (QEMU 8.1+ keeps one per vCPU once anyone asked
/// QEMU for its stats, for example libvirt's VIR_DOMAIN_STATS_VM), found by their /proc/PID/fd link
/// (<c>anon_inode:kvm-vcpu-stats:N</c>) and duplicated with pidfd_open + pidfd_getfd (root); QEMU is not touched.</item>
/// <item><b>debugfs</b>: where a domain has no readable stats fd, its <c>PID-FD</c> directory under
/// <c>$VMPROBE_DEBUGFS/kvm</c> (<see cref="KvmDebugfs"/>); debugfs' top-level files are also the host totals (<c>host_kvm_*</c>).</item>
/// </list>
/// A domain without stats fds is logged once and looked at again every <see cref="RescanCycles"/> cycles.
/// Duplicated fds are closed when their domain disappears (they keep the VM's kernel object alive).
/// </summary>
public sealed class KvmStatsSource : IMetricSource
{
    public const string SourceName = "kvm";

    /// <summary>Cycles between two looks for the stats fds of a domain that had none.</summary>
    internal const int RescanCycles = 12;

    private readonly KvmStatsMode _mode;
    private readonly Func<string, bool>? _allow;
    private readonly IProbeLog _log;
    private readonly string _procRoot;
    private readonly Func<string, bool> _isStatsLink;
    private readonly Dictionary<int, DomainFds> _domains = new();
    private readonly HashSet<string> _logged = new(StringComparer.Ordinal);
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
        _isStatsLink = isStatsLink;
    }

    public string Name => SourceName;

    /// <summary>Stats fds held open now (all domains).</summary>
    internal int OpenFds => _domains.Values.Sum(d => d.Fds.Count);

    public void Collect(CycleContext context, MetricSet metrics)
    {
        if (_mode == KvmStatsMode.Off)
        {
            return;
        }

        if (_debugfs.Exists)
        {
            KvmStatsEmitter.AddHost(metrics, _debugfs.ReadHost(), _allow);
        }
        else
        {
            LogOnce("nodebugfs", LogLevel.Info,
                $"kvm: no KVM debugfs at {_debugfs.KvmDirectory} (debugfs not mounted, no KVM module, or kernel lockdown): no host_kvm_* totals and no debugfs fallback.");
        }

        var present = new HashSet<int>();
        foreach (var domain in context.Domains)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            if (domain.Pid <= 0)
            {
                continue;
            }

            present.Add(domain.Pid);
            var uuid = domain.Uuid == Guid.Empty ? string.Empty : domain.Uuid.ToString("D");
            try
            {
                CollectDomain(context, metrics, domain, uuid);
            }
            catch (KvmStatsException ex)
            {
                Forget(domain.Pid);
                Report(context, domain, ex);
            }
        }

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
    }

    private void CollectDomain(CycleContext context, MetricSet metrics, VmDomain domain, string uuid)
    {
        if (!_domains.TryGetValue(domain.Pid, out var state))
        {
            state = new DomainFds();
            _domains.Add(domain.Pid, state);
        }

        if (state.Fds.Count == 0)
        {
            if (state.CyclesUntilRescan-- <= 0 && !_pidFdUnavailable)
            {
                state.CyclesUntilRescan = RescanCycles - 1;
                Open(domain, state);
            }

            if (state.Fds.Count == 0)
            {
                var fallback = _debugfs.Exists ? _debugfs.ReadVm(domain.Pid) : null;
                LogOnce($"nofds:{domain.Pid}", LogLevel.Info,
                    $"kvm: domain '{domain.Name}' (QEMU pid {domain.Pid}) has no KVM stats fds (not a KVM domain, QEMU before 8.1, or nobody asked QEMU for its stats yet); "
                    + (fallback is null ? "no debugfs directory either" : "falls back to debugfs") + $"; looking for stats fds again every {RescanCycles} cycles.");
                if (fallback is not null)
                {
                    KvmStatsEmitter.AddDomain(metrics, false, domain.Name, uuid, new[] { fallback }, _allow);
                    metrics.Family(KvmFamilies.StatsInfo).Add(1, domain.Name, uuid, "debugfs");
                }

                return;
            }

            LogOnce($"binary:{domain.Pid}", LogLevel.Info,
                $"kvm: domain '{domain.Name}' (QEMU pid {domain.Pid}): {state.Fds.Count} KVM stats fd(s) duplicated with pidfd_getfd (source binary).");
        }

        var snapshots = new List<KvmStatsSnapshot>(state.Fds.Count);
        foreach (var fd in state.Fds)
        {
            snapshots.Add(fd.Read());
        }

        KvmStatsEmitter.AddDomain(metrics, _mode == KvmStatsMode.Vcpu, domain.Name, uuid, snapshots, _allow);
        metrics.Family(KvmFamilies.StatsInfo).Add(1, domain.Name, uuid, "binary");
        var skipped = state.Fds.Sum(f => f.Layout.Skipped.Count);
        if (skipped > 0)
        {
            metrics.Family(KvmFamilies.StatsSkipped).Add(skipped, domain.Name, uuid);
        }
    }

    private void Open(VmDomain domain, DomainFds state)
    {
        var links = KvmStatsFd.Find(_procRoot, domain.Pid, _isStatsLink);
        if (links.Count == 0)
        {
            return;
        }

        SafeFdHandle pidFd;
        try
        {
            pidFd = KvmStatsFd.OpenPid(domain.Pid);
        }
        catch (EntryPointNotFoundException)
        {
            _pidFdUnavailable = true;
            LogOnce("nopidfd", LogLevel.Warning, "kvm: this C library has no pidfd_open/pidfd_getfd (glibc 2.36+ needed): KVM stats fds cannot be read.");
            return;
        }

        using (pidFd)
        {
            try
            {
                foreach (var link in links)
                {
                    var fd = KvmStatsFd.Duplicate(pidFd, domain.Pid, link);
                    state.Fds.Add(fd);
                    if (fd.Layout.Skipped.Count > 0)
                    {
                        LogOnce("skipped:" + string.Join(",", fd.Layout.Skipped), LogLevel.Info,
                            $"kvm: statistics this probe does not know are left out: {string.Join(", ", fd.Layout.Skipped)}.");
                    }
                }
            }
            catch
            {
                state.Dispose();
                throw;
            }
        }
    }

    private void Forget(int pid)
    {
        if (_domains.Remove(pid, out var state))
        {
            state.Dispose();
        }
    }

    private void Report(CycleContext context, VmDomain domain, KvmStatsException error)
    {
        context.ItemErrors?.Add(error);
        LogOnce($"error:{domain.Pid}:{error.ErrorId}", LogLevel.Warning,
            $"kvm: domain '{domain.Name}' (QEMU pid {domain.Pid.ToString(CultureInfo.InvariantCulture)}): {error.Message} [{error.ErrorId}]");
    }

    private void LogOnce(string key, LogLevel level, string message)
    {
        if (_logged.Add(key) && _log.IsEnabled(level))
        {
            _log.Write(level, message);
        }
    }

    private sealed class DomainFds : IDisposable
    {
        public List<KvmStatsFd> Fds { get; } = new();

        public int CyclesUntilRescan { get; set; }

        public void Dispose()
        {
            foreach (var fd in Fds)
            {
                fd.Dispose();
            }

            Fds.Clear();
        }
    }
}
