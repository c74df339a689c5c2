using System.Globalization;
using VmProbe.Perf;
using VmProbe.Power;

namespace VmProbe.Tests.Power;

/// <summary>
/// A sysfs tree shaped like a real host's power files, built in a temporary directory (the tests point VMPROBE_SYSFS or
/// <see cref="PowerOptions.Sysfs"/> at it): Intel (RAPL package, core, uncore, dram sub-zones, psys, an MMIO copy, the
/// power PMU, an ACPI power meter) or AMD (two sockets, the power and power_core PMUs, amd_energy per core).
/// </summary>
internal sealed class PowerFixture : IDisposable
{
    public const ulong IntelMaxRange = 262143328850;

    public PowerFixture() => Root = Directory.CreateTempSubdirectory("vmprobe-power-").FullName;

    public string Root { get; }

    /// <summary>Raw counts of the fake power PMUs, by event name and CPU (the tests set them between cycles).</summary>
    public Dictionary<(string Event, int Cpu), ulong> PmuCounts { get; } = new();

    public static PowerFixture Intel()
    {
        var f = new PowerFixture();
        f.Write("class/powercap/intel-rapl/enabled", "1");
        f.Zone("intel-rapl:0", "package-0", 1_000_000, IntelMaxRange);
        f.Zone("intel-rapl:0:0", "core", 400_000, IntelMaxRange);
        f.Zone("intel-rapl:0:1", "uncore", 10_000, IntelMaxRange);
        f.Zone("intel-rapl:0:2", "dram", 200_000, 65712999613);
        f.Zone("intel-rapl:1", "psys", 2_000_000, IntelMaxRange);
        f.Zone("intel-rapl-mmio:0", "package-0", 999, IntelMaxRange);
        f.Pmu("power", "0", ("pkg", "0x02"), ("cores", "0x01"), ("gpu", "0x04"), ("ram", "0x03"), ("psys", "0x05"));
        f.Write("devices/system/cpu/cpu0/topology/physical_package_id", "0");
        f.Write("class/hwmon/hwmon0/name", "power_meter");
        f.Write("class/hwmon/hwmon0/power1_average", "231500000");
        f.Write("class/hwmon/hwmon0/power1_input", "1");
        f.Write("class/hwmon/hwmon1/name", "coretemp");
        f.Write("class/hwmon/hwmon1/temp1_input", "45000");
        return f;
    }

    public static PowerFixture Amd()
    {
        var f = new PowerFixture();
        f.Zone("intel-rapl:0", "package-0", 5_000_000, IntelMaxRange);
        f.Pmu("power", "0,8", ("pkg", "0x02"));
        f.Pmu("power_core", "0-3", ("core", "0x01"));
        f.Write("devices/system/cpu/cpu0/topology/physical_package_id", "0");
        f.Write("devices/system/cpu/cpu8/topology/physical_package_id", "1");
        f.Write("class/hwmon/hwmon2/name", "amd_energy");
        for (var core = 0; core < 4; core++)
        {
            f.Write($"class/hwmon/hwmon2/energy{core + 1}_input", (100_000 * (core + 1)).ToString(CultureInfo.InvariantCulture));
            f.Write($"class/hwmon/hwmon2/energy{core + 1}_label", $"Ecore{core:000}");
        }

        f.Write("class/hwmon/hwmon2/energy5_input", "9000000");
        f.Write("class/hwmon/hwmon2/energy5_label", "Esocket0");
        return f;
    }

    public void Zone(string id, string name, ulong microjoules, ulong max)
    {
        Write($"class/powercap/{id}/name", name);
        Write($"class/powercap/{id}/energy_uj", microjoules.ToString(CultureInfo.InvariantCulture));
        Write($"class/powercap/{id}/max_energy_range_uj", max.ToString(CultureInfo.InvariantCulture));
    }

    public void SetEnergy(string id, ulong microjoules) =>
        Write($"class/powercap/{id}/energy_uj", microjoules.ToString(CultureInfo.InvariantCulture));

    public void Pmu(string pmu, string cpumask, params (string Name, string Code)[] events)
    {
        Write($"bus/event_source/devices/{pmu}/type", "4242");
        Write($"bus/event_source/devices/{pmu}/cpumask", cpumask);
        Write($"bus/event_source/devices/{pmu}/format/event", "config:0-7");
        foreach (var (name, code) in events)
        {
            Write($"bus/event_source/devices/{pmu}/events/energy-{name}", "event=" + code);
            Write($"bus/event_source/devices/{pmu}/events/energy-{name}.scale", "2.3283064365386962890625e-10");
            Write($"bus/event_source/devices/{pmu}/events/energy-{name}.unit", "Joules");
        }
    }

    public void Write(string relative, string text)
    {
        var path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text + "\n");
    }

    public void Delete(string relative) => Directory.Delete(Path.Combine(Root, relative), recursive: true);

    /// <summary>Stands in for the kernel: counters that read <see cref="PmuCounts"/> (0 until set).</summary>
    public IPmuCounters OpenPmu(IReadOnlyList<PerfEventSpec> events, IReadOnlyList<int> cpus) => new FakeCounters(this, events, cpus);

    public void Dispose() => Directory.Delete(Root, recursive: true);

    private sealed class FakeCounters : IPmuCounters
    {
        private readonly PowerFixture _fixture;
        private readonly IReadOnlyList<PerfEventSpec> _events;
        private readonly IReadOnlyList<int> _cpus;

        public FakeCounters(PowerFixture fixture, IReadOnlyList<PerfEventSpec> events, IReadOnlyList<int> cpus) =>
            (_fixture, _events, _cpus) = (fixture, events, cpus);

        public PerfEventStatus Status(int eventIndex) => new(_events[eventIndex], true);

        public void Read()
        {
        }

        public ulong Raw(int eventIndex, int cpuSlot) =>
            _fixture.PmuCounts.GetValueOrDefault((_events[eventIndex].CanonicalName, _cpus[cpuSlot]));

        public void Dispose()
        {
        }
    }
}
