using Field = VmProbe.Views.ViewFrameBuilder.Field;

namespace VmProbe.Views;

/// <summary>The counters' per-second rates of one VM (each over its own family's reading interval), summed per field, and the row they make.</summary>
internal sealed class VmAccumulator
{
    private readonly Dictionary<Field, Delta> _fields = new();
    private readonly Dictionary<string, Delta> _exitReasons = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Delta> _events = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, Dictionary<Field, Delta>> _vcpus = new(VcpuOrder.Instance);
    private double? _rss;
    private bool _energySeen;
    private bool _wholeZones;
    private Delta? _psys;

    public VmAccumulator(string name, string uuid)
    {
        Name = name;
        Uuid = uuid;
    }

    public string Name { get; }

    public string Uuid { get; }

    public void Add(Field field, string? vcpu, string name, double value, double? rate)
    {
        switch (field)
        {
            case Field.Rss:
                _rss = (_rss ?? 0) + value;
                return;
            case Field.Energy:
                // The zones nest (cores and uncore inside package, AMD's core-N inside package, psys holding package and
                // dram): the VM's power is its package and dram zones, else psys, never their sum.
                _energySeen = true;
                if (name.Length == 0 || name.StartsWith("package-", StringComparison.Ordinal) || name.StartsWith("dram-", StringComparison.Ordinal))
                {
                    _wholeZones = true;
                    Get(_fields, Field.Energy).Add(rate);
                }
                else if (name == "psys")
                {
                    (_psys ??= new Delta()).Add(rate);
                }

                return;
            case Field.ExitsByReason:
                Get(_exitReasons, name).Add(rate);
                break;
            case Field.Events:
                Get(_events, name).Add(rate);
                break;
        }

        if (vcpu is not null)
        {
            if (!_vcpus.TryGetValue(vcpu, out var perVcpu))
            {
                _vcpus[vcpu] = perVcpu = new Dictionary<Field, Delta>();
            }

            Get(perVcpu, field).Add(rate);
        }

        // Per-vCPU exits by reason are only drill-down detail: the per-VM family already counts them.
        if (field != Field.VcpuExitsByReason)
        {
            Get(_fields, field).Add(rate);
        }
    }

    public VmViewRow ToRow()
    {
        double? Rate(Field field) => Find(_fields, field)?.Rate;
        var exits = Rate(Field.ExitsByReason) ?? Rate(Field.KvmStatExits);
        var reasons = _exitReasons.Select(r => new ViewRate(r.Key, r.Value.Rate))
            .OrderByDescending(r => r.PerSecond ?? -1).ThenBy(r => r.Name, StringComparer.Ordinal).ToList();
        var events = _events.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => new ViewRate(e.Key, e.Value.Rate)).ToList();
        var vcpus = _vcpus.Select(v => new VcpuViewRow(v.Key,
            Find(v.Value, Field.VcpuRun)?.Rate ?? Find(v.Value, Field.LibvirtVcpuRun)?.Rate,
            Steal(v.Value),
            Find(v.Value, Field.VcpuExitsByReason)?.Rate ?? Find(v.Value, Field.KvmStatExits)?.Rate)).ToList();
        return new VmViewRow(Name, Uuid)
        {
            CpuCores = Rate(Field.SchedRun) ?? Rate(Field.LibvirtCpu),
            StealRatio = vcpus.Max(v => v.StealRatio),
            GuestCores = Rate(Field.Guest),
            ExitsPerSecond = exits,
            TopExitReason = reasons.FirstOrDefault(r => r.PerSecond > 0)?.Name,
            HaltPollSuccessRatio = Share(_fields, Field.HaltPollSuccess, Field.HaltPollFail) ?? Share(_fields, Field.KvmHaltPollSuccess, Field.KvmHaltPollFail),
            Ipc = Ipc(),
            RssBytes = _rss,
            DiskReadBytesPerSecond = Rate(Field.DiskRead),
            DiskWriteBytesPerSecond = Rate(Field.DiskWrite),
            NetReceiveBytesPerSecond = Rate(Field.NetReceive),
            NetTransmitBytesPerSecond = Rate(Field.NetTransmit),
            Watts = _wholeZones ? Rate(Field.Energy) : _psys?.Rate,
            EnergyMeasured = _energySeen,
            Vcpus = vcpus,
            ExitReasons = reasons,
            Events = events,
        };
    }

    /// <summary>
    /// One vCPU's steal: its thread's run-queue wait over wall time (per-thread procfs first, then libvirt's vcpu.N.wait),
    /// what the guest's own %st shows for that CPU and what vmprobe.rules.yml records as rate(wait). Not wait/(run+wait):
    /// an idle vCPU that waited briefly on each wake-up would read as heavily stolen. The VM's steal is its worst vCPU.
    /// </summary>
    private static double? Steal(Dictionary<Field, Delta> fields) =>
        Find(fields, Field.VcpuWait)?.Rate ?? Find(fields, Field.LibvirtVcpuWait)?.Rate;

    /// <summary>part / (part + other); null unless both moved over the interval (or the sum is 0).</summary>
    private static double? Share(Dictionary<Field, Delta> fields, Field part, Field other)
    {
        if (Find(fields, part) is not { Has: true } a || Find(fields, other) is not { Has: true } b)
        {
            return null;
        }

        var total = a.Sum + b.Sum;
        return total > 0 ? a.Sum / total : null;
    }

    private double? Ipc()
    {
        if (!_events.TryGetValue("instructions", out var instructions) || !_events.TryGetValue("cpu_cycles", out var cycles)
            || !instructions.Has || !cycles.Has || cycles.Sum <= 0)
        {
            return null;
        }

        return instructions.Sum / cycles.Sum;
    }

    private static Delta? Find<TKey>(Dictionary<TKey, Delta> map, TKey key)
        where TKey : notnull => map.TryGetValue(key, out var delta) ? delta : null;

    private static Delta Get<TKey>(Dictionary<TKey, Delta> map, TKey key)
        where TKey : notnull
    {
        if (!map.TryGetValue(key, out var delta))
        {
            map[key] = delta = new Delta();
        }

        return delta;
    }

    /// <summary>A sum of per-second rates; <see cref="Has"/> once any series had two readings.</summary>
    internal sealed class Delta
    {
        public double Sum { get; private set; }

        public bool Has { get; private set; }

        public void Add(double? rate)
        {
            if (rate is { } value)
            {
                Sum += value;
                Has = true;
            }
        }

        public double? Rate => Has ? Sum : null;
    }

    /// <summary>vCPU ids numerically ("2" before "10"), anything else after them by text.</summary>
    private sealed class VcpuOrder : IComparer<string>
    {
        public static readonly VcpuOrder Instance = new();

        public int Compare(string? x, string? y) =>
            (int.TryParse(x, out var a), int.TryParse(y, out var b)) switch
            {
                (true, true) => a.CompareTo(b),
                (true, false) => -1,
                (false, true) => 1,
                _ => string.CompareOrdinal(x, y),
            };
    }
}
