using System.Globalization;
using VmProbe.Prometheus;

namespace VmProbe.Libvirt;

/// <summary>
/// The <c>libvirt</c> metric source: one virConnectGetAllDomainStats call per cycle (state, cpu-total, balloon, vcpu,
/// interface, block), emitted in base units (ns -> seconds, KiB -> bytes) with labels <c>domain</c> and <c>uuid</c>
/// (plus <c>vcpu</c>, <c>interface</c>, <c>device</c>). A libvirt failure is thrown as a typed exception so the cycle
/// counts it; the session logs it once per state change.
/// A defined domain that is not running (state <c>shutoff</c>) has only <c>domain_info{state="shutoff"}</c> and its
/// count in <c>domains{state}</c>: no series of a run that ended. So <c>probe_domains</c> (the running domains the
/// discovery lists) equals the sum of <c>domains</c> minus <c>domains{state="shutoff"}</c>.
/// </summary>
public sealed class LibvirtDomainSource : IMetricSource
{
    private const double NsPerSecond = 1e9;
    private const double BytesPerKiB = 1024;

    private static readonly string[] StateNames = { "nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended" };

    private readonly LibvirtSession _session;
    private readonly bool _ownsSession;
    private readonly int[] _stateCounts = new int[StateNames.Length];

    public LibvirtDomainSource(LibvirtSession session, bool ownsSession = false)
    {
        _session = session;
        _ownsSession = ownsSession;
    }

    public string Name => "libvirt";

    public LibvirtSession Session => _session;

    /// <summary>Lowercase word for a state, as in the <c>state</c> label: running, paused, shutoff, ...</summary>
    public static string StateName(VmDomainState state) =>
        (int)state >= 0 && (int)state < StateNames.Length ? StateNames[(int)state] : "unknown";

    public void Collect(CycleContext context, MetricSet metrics)
    {
        var stats = _session.Run(
            "virConnectGetAllDomainStats",
            c => c.GetAllDomainStats(DomainStatsGroups.Default, includeInactive: true),
            context.CancellationToken);
        Emit(stats, metrics);
    }

    /// <summary>Writes the families for already-fetched stats (public so that the cmdlets and tests can render a snapshot).</summary>
    public void Emit(IReadOnlyList<DomainStats> stats, MetricSet metrics)
    {
        var info = metrics.Family("domain_info", MetricType.Gauge, "Domain known to libvirt, value 1; state is libvirt's state word.", "domain", "uuid", "state");
        var domains = metrics.Family("domains", MetricType.Gauge, "Number of libvirt domains in each state.", "state");
        var cpu = metrics.Family("domain_cpu_seconds_total", MetricType.Counter, "CPU time used by the domain's QEMU process (libvirt cpu.time).", "domain", "uuid");
        var cpuUser = metrics.Family("domain_cpu_user_seconds_total", MetricType.Counter, "User CPU time of the domain's QEMU process (libvirt cpu.user).", "domain", "uuid");
        var cpuSystem = metrics.Family("domain_cpu_system_seconds_total", MetricType.Counter, "System CPU time of the domain's QEMU process (libvirt cpu.system).", "domain", "uuid");
        var vcpus = metrics.Family("domain_vcpus", MetricType.Gauge, "Current number of vCPUs (libvirt vcpu.current).", "domain", "uuid");
        var vcpusMax = metrics.Family("domain_vcpus_maximum", MetricType.Gauge, "Maximum number of vCPUs (libvirt vcpu.maximum).", "domain", "uuid");
        var vcpuTime = metrics.Family("domain_vcpu_seconds_total", MetricType.Counter, "Time the vCPU thread ran on a host CPU (libvirt vcpu.N.time).", "domain", "uuid", "vcpu");
        var vcpuWait = metrics.Family("domain_vcpu_wait_seconds_total", MetricType.Counter, "Time the vCPU was runnable but waited for a host CPU (libvirt vcpu.N.wait).", "domain", "uuid", "vcpu");
        var vcpuDelay = metrics.Family("domain_vcpu_delay_seconds_total", MetricType.Counter, "Time the vCPU thread spent waiting in the host run queue (libvirt vcpu.N.delay).", "domain", "uuid", "vcpu");
        var balloonCurrent = metrics.Family("domain_memory_balloon_current_bytes", MetricType.Gauge, "Memory currently assigned to the domain (libvirt balloon.current).", "domain", "uuid");
        var balloonMaximum = metrics.Family("domain_memory_balloon_maximum_bytes", MetricType.Gauge, "Maximum memory of the domain (libvirt balloon.maximum).", "domain", "uuid");
        var rss = metrics.Family("domain_memory_rss_bytes", MetricType.Gauge, "Resident set size of the domain's QEMU process (libvirt balloon.rss).", "domain", "uuid");
        var unused = metrics.Family("domain_memory_unused_bytes", MetricType.Gauge, "Memory the guest leaves unused (guest-reported, libvirt balloon.unused).", "domain", "uuid");
        var available = metrics.Family("domain_memory_available_bytes", MetricType.Gauge, "Memory the guest sees as total (guest-reported, libvirt balloon.available).", "domain", "uuid");
        var usable = metrics.Family("domain_memory_usable_bytes", MetricType.Gauge, "Memory the guest could use without swapping (guest-reported, libvirt balloon.usable).", "domain", "uuid");
        var swapIn = metrics.Family("domain_memory_swap_in_bytes_total", MetricType.Counter, "Memory swapped in by the guest (guest-reported, libvirt balloon.swap_in).", "domain", "uuid");
        var swapOut = metrics.Family("domain_memory_swap_out_bytes_total", MetricType.Counter, "Memory swapped out by the guest (guest-reported, libvirt balloon.swap_out).", "domain", "uuid");
        var majorFaults = metrics.Family("domain_memory_major_faults_total", MetricType.Counter, "Major page faults in the guest (guest-reported, libvirt balloon.major_fault).", "domain", "uuid");
        var minorFaults = metrics.Family("domain_memory_minor_faults_total", MetricType.Counter, "Minor page faults in the guest (guest-reported, libvirt balloon.minor_fault).", "domain", "uuid");
        var blockReadBytes = metrics.Family("domain_block_read_bytes_total", MetricType.Counter, "Bytes read from the disk (libvirt block.N.rd.bytes).", "domain", "uuid", "device");
        var blockWriteBytes = metrics.Family("domain_block_write_bytes_total", MetricType.Counter, "Bytes written to the disk (libvirt block.N.wr.bytes).", "domain", "uuid", "device");
        var blockReads = metrics.Family("domain_block_read_requests_total", MetricType.Counter, "Read requests on the disk (libvirt block.N.rd.reqs).", "domain", "uuid", "device");
        var blockWrites = metrics.Family("domain_block_write_requests_total", MetricType.Counter, "Write requests on the disk (libvirt block.N.wr.reqs).", "domain", "uuid", "device");
        var rxBytes = metrics.Family("domain_network_receive_bytes_total", MetricType.Counter, "Bytes received by the interface (libvirt net.N.rx.bytes).", "domain", "uuid", "interface");
        var txBytes = metrics.Family("domain_network_transmit_bytes_total", MetricType.Counter, "Bytes transmitted by the interface (libvirt net.N.tx.bytes).", "domain", "uuid", "interface");
        var rxPackets = metrics.Family("domain_network_receive_packets_total", MetricType.Counter, "Packets received (libvirt net.N.rx.pkts).", "domain", "uuid", "interface");
        var txPackets = metrics.Family("domain_network_transmit_packets_total", MetricType.Counter, "Packets transmitted (libvirt net.N.tx.pkts).", "domain", "uuid", "interface");
        var rxErrors = metrics.Family("domain_network_receive_errors_total", MetricType.Counter, "Receive errors (libvirt net.N.rx.errs).", "domain", "uuid", "interface");
        var txErrors = metrics.Family("domain_network_transmit_errors_total", MetricType.Counter, "Transmit errors (libvirt net.N.tx.errs).", "domain", "uuid", "interface");
        var rxDrops = metrics.Family("domain_network_receive_drops_total", MetricType.Counter, "Received packets dropped (libvirt net.N.rx.drop).", "domain", "uuid", "interface");
        var txDrops = metrics.Family("domain_network_transmit_drops_total", MetricType.Counter, "Transmitted packets dropped (libvirt net.N.tx.drop).", "domain", "uuid", "interface");

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
