using System.Globalization;

namespace VmProbe.Libvirt;

/// <summary>
/// The <c>libvirt</c> metric source: one virConnectGetAllDomainStats call per cycle (state, cpu-total, balloon, vcpu,
/// interface, block), emitted in base units (ns -> seconds, KiB -> bytes) with labels <c>domain</c> and <c>uuid</c>
/// (plus <c>vcpu</c>, <c>interface</c>, <c>device</c>). A libvirt failure is thrown as a typed exception so the cycle
/// counts it; the session logs it once per state change. With kvmstats on, the same call asks for VIR_DOMAIN_STATS_VM
/// and hands the hypervisor statistics to the KVM source (<see cref="HypervisorStatsShare"/>), which emits them.
/// A defined domain that is not running (state <c>shutoff</c>) has only <c>domain_info{state="shutoff"}</c> and its
/// count in <c>domains{state}</c>: no series of a run that ended. So <c>probe_domains</c> (the running domains the
/// discovery lists) equals the sum of <c>domains</c> minus <c>domains{state="shutoff"}</c>.
/// </summary>
internal sealed class LibvirtDomainSource : IMetricSource
{
    private const double NsPerSecond = 1e9;
    private const double BytesPerKiB = 1024;

    private static readonly string[] StateNames = { "nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended" };

    private readonly LibvirtSession _session;
    private readonly bool _ownsSession;
    private readonly bool _requestVmGroup;
    private readonly IProbeLog _log;
    private readonly int[] _stateCounts = new int[StateNames.Length];

    // The connection that rejected VIR_DOMAIN_STATS_VM: not asked again on it (a reconnect asks once more).
    private object? _vmGroupRejectedBy;
    private string? _vmGroupUnavailable;

    // The connection whose running domains all came back without hypervisor statistics: said once per connection.
    private bool _vmGroupEmptyLogged;
    private string? _vmGroupEmpty;

    /// <param name="requestVmGroup">Also ask for VIR_DOMAIN_STATS_VM (kvmstats not off) and hand the hypervisor
    /// statistics to the KVM source through the cycle's <see cref="HypervisorStatsShare"/>.</param>
    public LibvirtDomainSource(LibvirtSession session, bool ownsSession = false, bool requestVmGroup = false, IProbeLog? log = null)
    {
        _session = session;
        _ownsSession = ownsSession;
        _requestVmGroup = requestVmGroup;
        _log = log ?? NullProbeLog.Instance;
    }

    public const string SourceName = "libvirt";

    public string Name => SourceName;

    public LibvirtSession Session => _session;

    /// <summary>Why VIR_DOMAIN_STATS_VM is not asked for (rejected by the daemon or driver), or null.</summary>
    public string? VmGroupUnavailable => _vmGroupUnavailable;

    /// <summary>Why libvirt gives no hypervisor statistics although asked (no running domain came back with any), or null.</summary>
    public string? VmGroupEmpty => _vmGroupEmpty;

    /// <summary>Lowercase word for a state, as in the <c>state</c> label: running, paused, shutoff, ...</summary>
    public static string StateName(VmDomainState state) =>
        (int)state >= 0 && (int)state < StateNames.Length ? StateNames[(int)state] : "unknown";

    public void Collect(CycleContext context, MetricSet metrics)
    {
        var (stats, vmGroup, connection) = _session.Run("virConnectGetAllDomainStats", Fetch, context.CancellationToken);
        if (vmGroup)
        {
            NoteEmptyVmGroup(stats, connection);
        }

        if (_requestVmGroup && context.Shared?.Get<HypervisorStatsShare>() is { } share)
        {
            share.VmGroupRequested = vmGroup;
            share.VmGroupUnavailable = _vmGroupUnavailable ?? _vmGroupEmpty;
            foreach (var domain in stats)
            {
                share.Set(domain.Uuid, domain.HypervisorStats);
            }
        }

        Emit(stats, metrics);
    }

    /// <summary>
    /// The bulk call, with VIR_DOMAIN_STATS_VM when asked for. Not under ENFORCE_STATS: libvirt 9.0's qemu driver then
    /// fails the whole call as soon as one defined domain is shut off, and a daemon without the group just leaves it
    /// out (<see cref="NoteEmptyVmGroup"/> says so). A driver that still rejects the bit costs one retry without it,
    /// once per connection, and one log line.
    /// </summary>
    private (IReadOnlyList<DomainStats> Stats, bool VmGroup, LibvirtConnection Connection) Fetch(LibvirtConnection connection)
    {
        if (_requestVmGroup && !ReferenceEquals(connection, _vmGroupRejectedBy))
        {
            try
            {
                return (connection.GetAllDomainStats(DomainStatsGroups.Default | DomainStatsGroups.Vm, includeInactive: true), true, connection);
            }
            catch (LibvirtException ex) when (ex.Code is LibvirtErrorCode.ArgumentUnsupported or LibvirtErrorCode.NoSupport or LibvirtErrorCode.InvalidArg)
            {
                _vmGroupRejectedBy = connection;
                var first = _vmGroupUnavailable is null;
                _vmGroupUnavailable = $"libvirt at {connection.Uri} rejects VIR_DOMAIN_STATS_VM ({ex.Message})";
                if (first && _log.IsEnabled(LogLevel.Info))
                {
                    _log.Write(LogLevel.Info,
                        $"libvirt: {_vmGroupUnavailable}; asking without it (KVM statistics come from stats fds or debugfs instead).");
                }
            }
        }

        return (connection.GetAllDomainStats(DomainStatsGroups.Default, includeInactive: true), false, connection);
    }

    /// <summary>
    /// A daemon, driver or QEMU without the VM group answers without it: when none of the running domains came back with
    /// hypervisor statistics, that is said once (not per domain, not per cycle); a cycle where one has them clears the reason.
    /// </summary>
    private void NoteEmptyVmGroup(IReadOnlyList<DomainStats> stats, LibvirtConnection connection)
    {
        var running = stats.Count(d => d.State is VmDomainState.Running or VmDomainState.Blocked or VmDomainState.Paused);
        if (running == 0)
        {
            return; // nothing to tell from
        }

        if (stats.Any(d => d.HypervisorStats.Count > 0))
        {
            _vmGroupEmpty = null;
            return;
        }

        _vmGroupEmpty = $"libvirt at {connection.Uri} returned no VIR_DOMAIN_STATS_VM data for any of its {running} running domain(s) "
            + "(a daemon or driver without the group, libvirt before 8.9, QEMU before 7.1, or domains not on KVM)";
        if (!_vmGroupEmptyLogged)
        {
            _vmGroupEmptyLogged = true;
            if (_log.IsEnabled(LogLevel.Info))
            {
                _log.Write(LogLevel.Info, $"libvirt: {_vmGroupEmpty}; KVM statistics come from stats fds or debugfs instead.");
            }
        }
    }

    /// <summary>Writes the families for already-fetched stats (public so that the cmdlets and tests can render a snapshot).</summary>
    public void Emit(IReadOnlyList<DomainStats> stats, MetricSet metrics)
    {
        var info = metrics.Family(LibvirtFamilies.Info);
        var domains = metrics.Family(LibvirtFamilies.Domains);
        var cpu = metrics.Family(LibvirtFamilies.Cpu);
        var cpuUser = metrics.Family(LibvirtFamilies.CpuUser);
        var cpuSystem = metrics.Family(LibvirtFamilies.CpuSystem);
        var haltPollSuccess = metrics.Family(LibvirtFamilies.HaltPollSuccess);
        var haltPollFail = metrics.Family(LibvirtFamilies.HaltPollFail);
        var vcpus = metrics.Family(LibvirtFamilies.Vcpus);
        var vcpusMax = metrics.Family(LibvirtFamilies.VcpusMax);
        var vcpuTime = metrics.Family(LibvirtFamilies.VcpuTime);
        var vcpuWait = metrics.Family(LibvirtFamilies.VcpuWait);
        var vcpuDelay = metrics.Family(LibvirtFamilies.VcpuDelay);
        var balloonCurrent = metrics.Family(LibvirtFamilies.BalloonCurrent);
        var balloonMaximum = metrics.Family(LibvirtFamilies.BalloonMaximum);
        var rss = metrics.Family(LibvirtFamilies.Rss);
        var unused = metrics.Family(LibvirtFamilies.Unused);
        var available = metrics.Family(LibvirtFamilies.Available);
        var usable = metrics.Family(LibvirtFamilies.Usable);
        var swapIn = metrics.Family(LibvirtFamilies.SwapIn);
        var swapOut = metrics.Family(LibvirtFamilies.SwapOut);
        var majorFaults = metrics.Family(LibvirtFamilies.MajorFaults);
        var minorFaults = metrics.Family(LibvirtFamilies.MinorFaults);
        var blockReadBytes = metrics.Family(LibvirtFamilies.BlockReadBytes);
        var blockWriteBytes = metrics.Family(LibvirtFamilies.BlockWriteBytes);
        var blockReads = metrics.Family(LibvirtFamilies.BlockReads);
        var blockWrites = metrics.Family(LibvirtFamilies.BlockWrites);
        var rxBytes = metrics.Family(LibvirtFamilies.RxBytes);
        var txBytes = metrics.Family(LibvirtFamilies.TxBytes);
        var rxPackets = metrics.Family(LibvirtFamilies.RxPackets);
        var txPackets = metrics.Family(LibvirtFamilies.TxPackets);
        var rxErrors = metrics.Family(LibvirtFamilies.RxErrors);
        var txErrors = metrics.Family(LibvirtFamilies.TxErrors);
        var rxDrops = metrics.Family(LibvirtFamilies.RxDrops);
        var txDrops = metrics.Family(LibvirtFamilies.TxDrops);

        Array.Clear(_stateCounts);
        foreach (var d in stats)
        {
            var name = d.Name;
            var uuid = d.Uuid.ToString("D");
            var state = d.State ?? VmDomainState.NoState;
            info.Add(1, name, uuid, StateName(state));
            if ((int)state >= 0 && (int)state < _stateCounts.Length)
            {
                _stateCounts[(int)state]++;
            }

            // A defined domain that does not run keeps domain_info (and its count in domains{state}); the counters and
            // gauges of its last run are not carried on (libvirt still reports config values and frozen totals).
            if (state == VmDomainState.Shutoff)
            {
                continue;
            }

            AddSeconds(cpu, d.CpuTimeNs, name, uuid);
            AddSeconds(cpuUser, d.CpuUserNs, name, uuid);
            AddSeconds(cpuSystem, d.CpuSystemNs, name, uuid);
            AddSeconds(haltPollSuccess, d.HaltPollSuccessNs, name, uuid);
            AddSeconds(haltPollFail, d.HaltPollFailNs, name, uuid);

            if (d.VcpuCurrent is { } current)
            {
                vcpus.Add(current, name, uuid);
            }

            if (d.VcpuMaximum is { } maximum)
            {
                vcpusMax.Add(maximum, name, uuid);
            }

            foreach (var v in d.Vcpus)
            {
                var index = v.Index.ToString(CultureInfo.InvariantCulture);
                AddSeconds(vcpuTime, v.TimeNs, name, uuid, index);
                AddSeconds(vcpuWait, v.WaitNs, name, uuid, index);
                AddSeconds(vcpuDelay, v.DelayNs, name, uuid, index);
            }

            var b = d.Balloon;
            AddKiB(balloonCurrent, b.CurrentKiB, name, uuid);
            AddKiB(balloonMaximum, b.MaximumKiB, name, uuid);
            AddKiB(rss, b.RssKiB, name, uuid);
            AddKiB(unused, b.UnusedKiB, name, uuid);
            AddKiB(available, b.AvailableKiB, name, uuid);
            AddKiB(usable, b.UsableKiB, name, uuid);
            AddKiB(swapIn, b.SwapInKiB, name, uuid);
            AddKiB(swapOut, b.SwapOutKiB, name, uuid);
            AddCount(majorFaults, b.MajorFaults, name, uuid);
            AddCount(minorFaults, b.MinorFaults, name, uuid);

            foreach (var disk in d.Blocks)
            {
                // Without a name (it always comes first in libvirt's output) the series could not be told apart.
                if (disk.Name is not { } device)
                {
                    continue;
                }

                AddCount(blockReadBytes, disk.ReadBytes, name, uuid, device);
                AddCount(blockWriteBytes, disk.WriteBytes, name, uuid, device);
                AddCount(blockReads, disk.ReadRequests, name, uuid, device);
                AddCount(blockWrites, disk.WriteRequests, name, uuid, device);
            }

            foreach (var nic in d.Interfaces)
            {
                if (nic.Name is not { } iface)
                {
                    continue;
                }

                AddCount(rxBytes, nic.RxBytes, name, uuid, iface);
                AddCount(txBytes, nic.TxBytes, name, uuid, iface);
                AddCount(rxPackets, nic.RxPackets, name, uuid, iface);
                AddCount(txPackets, nic.TxPackets, name, uuid, iface);
                AddCount(rxErrors, nic.RxErrors, name, uuid, iface);
                AddCount(txErrors, nic.TxErrors, name, uuid, iface);
                AddCount(rxDrops, nic.RxDrops, name, uuid, iface);
                AddCount(txDrops, nic.TxDrops, name, uuid, iface);
            }
        }

        for (var i = 0; i < StateNames.Length; i++)
        {
            domains.Add(_stateCounts[i], StateNames[i]);
        }
    }

    public void Dispose()
    {
        if (_ownsSession)
        {
            _session.Dispose();
        }
    }

    private static void AddSeconds(MetricFamily family, ulong? ns, params string[] labels)
    {
        if (ns is { } value)
        {
            family.Add(value / NsPerSecond, labels);
        }
    }

    private static void AddKiB(MetricFamily family, ulong? kib, params string[] labels)
    {
        if (kib is { } value)
        {
            family.Add(value * BytesPerKiB, labels);
        }
    }

    private static void AddCount(MetricFamily family, ulong? count, params string[] labels)
    {
        if (count is { } value)
        {
            family.Add(value, labels);
        }
    }
}
