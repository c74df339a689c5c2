using System.Globalization;
using VmProbe.Perf;

namespace VmProbe.Power;

/// <summary>Counters of one power PMU's energy events, read as raw counts per event and CPU.</summary>
internal interface IPmuCounters : IDisposable
{
    /// <summary>Whether the event at <paramref name="eventIndex"/> could be opened (and why not).</summary>
    PerfEventStatus Status(int eventIndex);

    void Read();

    ulong Raw(int eventIndex, int cpuSlot);
}

/// <summary>Opens counters for <paramref name="events"/> on <paramref name="cpus"/> (tests stand in for the kernel).</summary>
internal delegate IPmuCounters PmuOpener(IReadOnlyList<PerfEventSpec> events, IReadOnlyList<int> cpus);

/// <summary>
/// The perf <c>power</c> PMU (package, cores, gpu, ram, psys energy) and, on kernels with per-core AMD energy, the
/// <c>power_core</c> PMU: each <c>events/energy-*</c> whose <c>.unit</c> is Joules, its code placed by the PMU's
/// <c>format</c>, its <c>.scale</c> giving joules per count, counted once per package (or core) on the CPUs of the
/// PMU's <c>cpumask</c>, system-wide through the perf engine's counter sets. Opened once; what cannot open is said once.
/// </summary>
internal sealed class PowerPmu : IDisposable
{
    public const string SourceLabel = "perf";

    private static readonly string[] Pmus = { "power", "power_core" };

    private readonly PowerSysfs _sysfs;
    private readonly PmuOpener _open;
    private readonly List<PmuCounters> _opened = new();
    private bool _tried;

    public PowerPmu(PowerSysfs sysfs, PmuOpener? open = null)
    {
        _sysfs = sysfs;
        _open = open ?? OpenPerf;
    }

    /// <summary>Opens the counters at the first call; returns what was found and what could not open, for one log line.</summary>
    public string? Open()
    {
        if (_tried)
        {
            return null;
        }

        _tried = true;
        var notes = new List<string>();
        foreach (var pmu in Pmus)
        {
            var directory = _sysfs.PathOf("bus", "event_source", "devices", pmu);
            if (!Directory.Exists(directory))
            {
                continue;
            }

            try
            {
                OpenPmu(pmu, directory, notes);
            }
            catch (Exception error) when (error is VmProbeException or IOException or InvalidDataException or FormatException or UnauthorizedAccessException)
            {
                notes.Add($"perf {pmu} PMU: {error.Message}");
            }
        }

        return notes.Count == 0 ? null : string.Join("; ", notes);
    }

    public bool IsOpen => _opened.Count > 0;

    public void Read(List<EnergyReading> readings)
    {
        foreach (var pmu in _opened)
        {
            pmu.Counters.Read();
            for (var e = 0; e < pmu.Events.Count; e++)
            {
                if (!pmu.Counters.Status(e).Supported)
                {
                    continue;
                }

                for (var slot = 0; slot < pmu.Zones[e].Length; slot++)
                {
                    readings.Add(new EnergyReading(pmu.Ids[e][slot], pmu.Zones[e][slot], SourceLabel, pmu.Counters.Raw(e, slot), null, pmu.Scales[e]));
                }
            }
        }
    }

    public void Dispose()
    {
        foreach (var pmu in _opened)
        {
            pmu.Counters.Dispose();
        }

        _opened.Clear();
    }

    private void OpenPmu(string pmu, string directory, List<string> notes)
    {
        var cpus = CpuList.Parse(_sysfs.ReadText(Path.Combine(directory, "cpumask")) ?? "0", Path.Combine(directory, "cpumask"));
        var events = new List<PerfEventSpec>();
        var scales = new List<double>();
        var names = new List<string>();
        var eventsDirectory = Path.Combine(directory, "events");
        var files = Directory.Exists(eventsDirectory) ? Directory.GetFiles(eventsDirectory).Select(Path.GetFileName).OfType<string>() : Enumerable.Empty<string>();
        foreach (var name in files.Where(n => n.StartsWith("energy-", StringComparison.Ordinal) && !n.Contains('.', StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var unit = _sysfs.ReadText(Path.Combine(eventsDirectory, name + ".unit"));
            if (!string.Equals(unit, "Joules", StringComparison.Ordinal))
            {
                notes.Add($"perf {pmu}/{name}: unit '{PowerSysfs.Shorten(unit ?? "(none)")}' is not Joules; left out");
                continue;
            }

            var scaleText = _sysfs.ReadText(Path.Combine(eventsDirectory, name + ".scale")) ?? "1";
            if (!double.TryParse(scaleText, NumberStyles.Float, CultureInfo.InvariantCulture, out var scale) || !double.IsFinite(scale) || scale <= 0 || scale > 1)
            {
                notes.Add($"perf {pmu}/{name}: bad .scale '{PowerSysfs.Shorten(scaleText)}'; left out");
                continue;
            }

            events.Add(PerfEventCatalog.ParseDynamic(pmu + "/" + name, _sysfs.PathOf("bus", "event_source", "devices")));
            scales.Add(scale);
            names.Add(name["energy-".Length..]);
        }

        if (events.Count == 0 || cpus.Length == 0)
        {
            notes.Add($"perf {pmu} PMU has no energy event in Joules or no CPU in its cpumask");
            return;
        }

        var counters = _open(events, cpus);
        var zones = new string[events.Count][];
        var ids = new string[events.Count][];
        var refused = new List<string>();
        for (var e = 0; e < events.Count; e++)
        {
            if (!counters.Status(e).Supported)
            {
                refused.Add($"{pmu}/energy-{names[e]} ({counters.Status(e).ErrnoName})");
            }

            zones[e] = new string[cpus.Length];
            ids[e] = new string[cpus.Length];
            var cores = pmu == "power_core" ? CoreZones(cpus) : null;
            for (var slot = 0; slot < cpus.Length; slot++)
            {
                zones[e][slot] = cores?[slot] ?? ZoneOf(names[e], Package(cpus[slot], slot));
                ids[e][slot] = $"{SourceLabel}:{pmu}/{names[e]}/{cpus[slot].ToString(CultureInfo.InvariantCulture)}";
            }
        }

        if (refused.Count > 0)
        {
            notes.Add("perf cannot count " + string.Join(", ", refused));
        }

        if (refused.Count == events.Count)
        {
            counters.Dispose();
            return;
        }

        _opened.Add(new PmuCounters(events, scales, zones, ids, counters));
    }

    /// <summary>The zone of a power PMU event (energy-pkg, -cores, -gpu, -ram, -psys) on a package.</summary>
    internal static string ZoneOf(string eventName, string package) => eventName switch
    {
        "pkg" => "package-" + package,
        "cores" => "cores-" + package,
        "gpu" => "uncore-" + package,
        "ram" => "dram-" + package,
        "psys" => "psys",
        _ => eventName + "-" + package,
    };

    private string Package(int cpu, int slot) => Topology(cpu, "physical_package_id") ?? slot.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// power_core's zones, <c>core-N</c> by the CPU's topology <c>core_id</c> (not its place in the cpumask, which shifts
    /// with offline or missing cores); <c>core-P-N</c> by package too when core ids repeat across packages; by place
    /// only where the topology cannot be read.
    /// </summary>
    private string[] CoreZones(int[] cpus)
    {
        var ids = cpus.Select((cpu, slot) => Topology(cpu, "core_id") ?? "slot" + slot.ToString(CultureInfo.InvariantCulture)).ToArray();
        var unique = ids.Distinct(StringComparer.Ordinal).Count() == ids.Length;
        return cpus.Select((cpu, slot) => ids[slot].StartsWith("slot", StringComparison.Ordinal)
            ? "core-" + slot.ToString(CultureInfo.InvariantCulture)
            : unique ? "core-" + ids[slot] : $"core-{Package(cpu, slot)}-{ids[slot]}").ToArray();
    }

    private string? Topology(int cpu, string file)
    {
        try
        {
            return _sysfs.ReadNumber(_sysfs.PathOf("devices", "system", "cpu", "cpu" + cpu.ToString(CultureInfo.InvariantCulture), "topology", file))?.ToString(CultureInfo.InvariantCulture);
        }
        catch (Exception error) when (error is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static IPmuCounters OpenPerf(IReadOnlyList<PerfEventSpec> events, IReadOnlyList<int> cpus) =>
        new PerfPmuCounters(PerfCounterSet.Open(PerfTarget.Host, events, PerfOpenOptions.Default, cpus));

    private sealed record PmuCounters(List<PerfEventSpec> Events, List<double> Scales, string[][] Zones, string[][] Ids, IPmuCounters Counters);

    /// <summary>The perf engine's counter set (SafeHandles, groups per CPU) as <see cref="IPmuCounters"/>.</summary>
    private sealed class PerfPmuCounters : IPmuCounters
    {
        private readonly PerfCounterSet _set;

        public PerfPmuCounters(PerfCounterSet set) => _set = set;

        public PerfEventStatus Status(int eventIndex) => _set.Status[eventIndex];

        public void Read() => _set.Read();

        public ulong Raw(int eventIndex, int cpuSlot) => _set.GetPerCpu(eventIndex, cpuSlot).Raw;

        public void Dispose() => _set.Dispose();
    }
}
