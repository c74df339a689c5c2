using VmProbe.Kvm.Exits;
using VmProbe.Libvirt;
using VmProbe.Procfs;

namespace VmProbe.Views;

/// <summary>
/// Turns consecutive cycles' <see cref="MetricSet"/>s into <see cref="ViewFrame"/>s: counters become per-second rates
/// over the time between two readings of their family (<see cref="MetricFamily.ReadAt"/>, else the cycle's own
/// <c>probe_last_cycle_timestamp_seconds</c>), so the terminal view, the log lines and the per-VM CSV show the textfile's
/// numbers, not a second reading of the host, and a cycle whose discovery ran late does not skew them.
/// </summary>
/// <remarks>
/// A series read for the first time, or one that went down (a thread or domain restarted), has no rate this cycle
/// rather than a wrong one. Where two sources measure the same thing, the per-thread procfs reading wins over libvirt's.
/// Not thread-safe: one builder per loop, called from the cycle.
/// </remarks>
public sealed class ViewFrameBuilder
{
    /// <summary>Per-VM energy, added by the power source when the host measures it.</summary>
    public static readonly string EnergyFamily = Power.PowerFamilies.DomainEnergy.Name;

    internal const string KvmStatExits = "domain_kvm_exits_total";
    internal const string KvmStatHaltPollSuccess = "domain_kvm_halt_poll_success_seconds_total";
    internal const string KvmStatHaltPollFail = "domain_kvm_halt_poll_fail_seconds_total";

    private readonly Func<DateTimeOffset> _now;
    private Dictionary<string, double> _previous = new(StringComparer.Ordinal);
    private Dictionary<string, double> _current = new(StringComparer.Ordinal);
    private double? _previousSeconds;
    private Dictionary<string, double> _previousRead = new(StringComparer.Ordinal);
    private Dictionary<string, double> _currentRead = new(StringComparer.Ordinal);

    public ViewFrameBuilder(Func<DateTimeOffset>? now = null) => _now = now ?? (() => DateTimeOffset.UtcNow);

    /// <summary>The frame for this cycle; reads <paramref name="metrics"/> fully before returning (the loop reuses the set).</summary>
    public ViewFrame Build(MetricSet metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var timestamp = CycleTime(metrics) ?? _now();
        var seconds = timestamp.ToUnixTimeMilliseconds() / 1000.0;
        double? interval = _previousSeconds is { } before && seconds > before ? seconds - before : null;
        var vms = new Dictionary<string, VmAccumulator>(StringComparer.Ordinal);
        var host = new List<ViewRate>();
        foreach (var family in metrics.Families)
        {
            var field = Classify(family.Name);
            if (field == Field.None || family.Type == MetricType.Histogram)
            {
                continue;
            }

            var domainAt = IndexOf(family.LabelNames, "domain");
            if (field != Field.HostCpu && domainAt < 0)
            {
                continue;
            }

            var familyInterval = ReadInterval(family, seconds, interval);
            var uuidAt = IndexOf(family.LabelNames, "uuid");
            var vcpuAt = IndexOf(family.LabelNames, "vcpu");
            var nameAt = IndexOf(family.LabelNames, field switch
            {
                Field.HostCpu => "mode",
                Field.ExitsByReason or Field.VcpuExitsByReason => "reason",
                Field.Events => "event",
                Field.Energy => "zone",
                _ => "-",
            });
            foreach (var sample in family.Samples)
            {
                double? rate = null;
                if (family.Type == MetricType.Counter)
                {
                    var key = Key(family.Name, sample.LabelValues);
                    _current[key] = sample.Value;
                    if (familyInterval is { } over && _previous.TryGetValue(key, out var last) && sample.Value >= last)
                    {
                        rate = (sample.Value - last) / over;
                    }
                }

                var name = nameAt >= 0 ? sample.LabelValues[nameAt] : string.Empty;
                if (field == Field.HostCpu)
                {
                    host.Add(new ViewRate(name, rate));
                    continue;
                }

                var domain = sample.LabelValues[domainAt];
                if (!vms.TryGetValue(domain, out var vm))
                {
                    vms[domain] = vm = new VmAccumulator(domain, uuidAt >= 0 ? sample.LabelValues[uuidAt] : string.Empty);
                }

                vm.Add(field, vcpuAt >= 0 ? sample.LabelValues[vcpuAt] : null, name, sample.Value, rate);
            }
        }

        (_previous, _current) = (_current, _previous);
        _current.Clear();
        (_previousRead, _currentRead) = (_currentRead, _previousRead);
        _currentRead.Clear();
        _previousSeconds = seconds;
        var running = Running(metrics);
        var rows = vms.Values.Where(vm => running?.Contains(vm.Name) != false).Select(vm => vm.ToRow())
            .OrderBy(row => row.Name, StringComparer.Ordinal).ToList();
        var power = metrics.TryGet(Power.PowerFamilies.HostEnergy.Name, out var energy) && energy.Samples.Count > 0;
        return new ViewFrame(timestamp, interval, host, rows) { PowerMeasured = power };
    }

    internal enum Field
    {
        None, HostCpu, SchedRun, LibvirtCpu, VcpuRun, VcpuWait, LibvirtVcpuRun, LibvirtVcpuWait, Guest,
        ExitsByReason, VcpuExitsByReason, KvmStatExits, HaltPollSuccess, HaltPollFail, KvmHaltPollSuccess, KvmHaltPollFail,
        Events, Rss, DiskRead, DiskWrite, NetReceive, NetTransmit, Energy,
    }

    private static readonly Dictionary<string, Field> Fields = new(StringComparer.Ordinal)
    {
        [HostProcfsFamilies.CpuSeconds.Name] = Field.HostCpu,
        [DomainProcfsFamilies.SchedRunSeconds.Name] = Field.SchedRun,
        [LibvirtFamilies.Cpu.Name] = Field.LibvirtCpu,
        [DomainProcfsFamilies.VcpuSchedRunSeconds.Name] = Field.VcpuRun,
        [DomainProcfsFamilies.VcpuSchedWaitSeconds.Name] = Field.VcpuWait,
        [LibvirtFamilies.VcpuTime.Name] = Field.LibvirtVcpuRun,
        [LibvirtFamilies.VcpuWait.Name] = Field.LibvirtVcpuWait,
        [DomainProcfsFamilies.CpuGuestSeconds.Name] = Field.Guest,
        [KvmExitFamilies.ExitsByReason.Name] = Field.ExitsByReason,
        [KvmExitFamilies.VcpuExitsByReason.Name] = Field.VcpuExitsByReason,
        [KvmStatExits] = Field.KvmStatExits,
        [LibvirtFamilies.HaltPollSuccess.Name] = Field.HaltPollSuccess,
        [LibvirtFamilies.HaltPollFail.Name] = Field.HaltPollFail,
        [KvmStatHaltPollSuccess] = Field.KvmHaltPollSuccess,
        [KvmStatHaltPollFail] = Field.KvmHaltPollFail,
        [PerfSampleFamilies.DomainEvents.Name] = Field.Events,
        [LibvirtFamilies.Rss.Name] = Field.Rss,
        [LibvirtFamilies.BlockReadBytes.Name] = Field.DiskRead,
        [LibvirtFamilies.BlockWriteBytes.Name] = Field.DiskWrite,
        [LibvirtFamilies.RxBytes.Name] = Field.NetReceive,
        [LibvirtFamilies.TxBytes.Name] = Field.NetTransmit,
        [EnergyFamily] = Field.Energy,
    };

    private static Field Classify(string name) => Fields.GetValueOrDefault(name, Field.None);

    /// <summary>Seconds between this family's reading and its last one; null on the first cycle or its first reading.</summary>
    private double? ReadInterval(MetricFamily family, double cycleSeconds, double? cycleInterval)
    {
        var readSeconds = family.ReadAt is { } at ? Seconds(at) : cycleSeconds;
        _currentRead[family.Name] = readSeconds;
        if (cycleInterval is null || !_previousRead.TryGetValue(family.Name, out var before))
        {
            // The first cycle, or the family's first reading: none of its counters has a previous value.
            return null;
        }

        return readSeconds > before ? readSeconds - before : null;
    }

    private static double Seconds(DateTimeOffset at) => (at - DateTimeOffset.UnixEpoch).Ticks / (double)TimeSpan.TicksPerSecond;

    /// <summary>
    /// The domains libvirt lists as not shut off this cycle, or null without libvirt's domain_info: a VM that is gone
    /// (destroyed, shut off) gets no row even if another source still reports its frozen counters as zero rates.
    /// </summary>
    private static HashSet<string>? Running(MetricSet metrics)
    {
        if (!metrics.TryGet(LibvirtFamilies.Info.Name, out var info) || info.Samples.Count == 0)
        {
            return null;
        }

        var domainAt = IndexOf(info.LabelNames, "domain");
        if (domainAt < 0)
        {
            return null;
        }

        var stateAt = IndexOf(info.LabelNames, "state");
        return info.Samples.Where(s => stateAt < 0 || s.LabelValues[stateAt] != "shutoff")
            .Select(s => s.LabelValues[domainAt]).ToHashSet(StringComparer.Ordinal);
    }

    private static DateTimeOffset? CycleTime(MetricSet metrics) =>
        metrics.TryGet(ProbeFamilies.LastCycleTimestamp.Name, out var family) && family.Samples.Count > 0
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(family.Samples[0].Value * 1000))
            : null;

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i] == name)
            {
                return i;
            }
        }

        return -1;
    }

    private static string Key(string family, string[] labels) => labels.Length == 0 ? family : family + "\0" + string.Join('\0', labels);
}
