using VmProbe.Perf;

namespace VmProbe.Power;

/// <summary>
/// Host energy and each domain's share (source name <c>power</c>): every energy meter the host has (the perf power
/// PMUs, powercap, hwmon energy) as <c>host_energy_joules_total{zone,source}</c>, platform power meters (hwmon, the
/// <c>powermeter</c> command) as <c>host_power_watts{sensor}</c>, and per domain <c>domain_energy_joules_total{zone}</c>
/// by <see cref="EnergyAttribution"/>'s model over the activity the host, procfs and perf sources shared this cycle
/// (<see cref="DomainActivityShare"/>; registered after them). Each zone is divided by the first source that gave it
/// (perf, powercap, hwmon in that order of trying). A host without any meter writes none of these and says so once.
/// </summary>
public sealed class PowerSource : IMetricSource
{
    public const string SourceName = "power";

    private readonly PowerSysfs _sysfs;
    private readonly PowerPmu _pmu;
    private readonly PowermeterCommand? _powermeter;
    private readonly IProbeLog _log;
    private readonly Dictionary<string, EnergyCounter> _counters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _basis = new(StringComparer.Ordinal);
    private readonly EnergyAttribution _attribution = new();
    private readonly HashSet<string> _saidOnce = new(StringComparer.Ordinal);
    private readonly Func<double> _clock;
    private bool? _hadSource;
    private int _cyclesSinceLook;

    /// <summary>
    /// On a host with no meter at all (no power PMU, no powercap or hwmon file, no powermeter command), sysfs is looked
    /// at again every this many cycles instead of every cycle: such a host rarely grows one (a driver loaded later), and
    /// the look (two directory listings, the per-cycle lists) was a tenth of a small host's cycle. Nothing is written
    /// for power on such a host, so a skipped cycle loses nothing; a meter that appears is written within this many.
    /// </summary>
    internal const int NoMeterLookEvery = 10;

    public PowerSource(PowerOptions options, IProbeLog log)
        : this(options, log, null, null)
    {
    }

    /// <param name="clock">Monotonic seconds, read right after each meter group is read (tests: a fixture's clock).</param>
    internal PowerSource(PowerOptions options, IProbeLog log, Func<string, string>? read, PmuOpener? openPmu, Func<double>? clock = null)
    {
        _clock = clock ?? (() => System.Diagnostics.Stopwatch.GetTimestamp() / (double)System.Diagnostics.Stopwatch.Frequency);
        ArgumentNullException.ThrowIfNull(options);
        _log = log ?? NullProbeLog.Instance;
        _sysfs = new PowerSysfs(options.Sysfs, read);
        _pmu = new PowerPmu(_sysfs, openPmu);
        _powermeter = string.IsNullOrWhiteSpace(options.Powermeter) ? null : new PowermeterCommand(options.Powermeter, options.PowermeterTimeout, options.PowermeterMaxAge);
    }

    public string Name => SourceName;

    /// <summary>The sysfs mount point read.</summary>
    public string SysfsRoot => _sysfs.Root;

    internal PowermeterCommand? Powermeter => _powermeter;

    public void Collect(CycleContext context, MetricSet metrics)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(metrics);
        if (_pmu.Open() is { } pmuNote)
        {
            Say(context, LogLevel.Info, "pmu", "power: " + pmuNote);
        }

        if (_hadSource == false && _powermeter is null && !_pmu.IsOpen && ++_cyclesSinceLook < NoMeterLookEvery)
        {
            return;
        }

        _cyclesSinceLook = 0;

        var readings = new List<EnergyReading>();
        var power = new List<(string Sensor, double Watts)>();
        var denied = new List<string>();
        var failed = new List<string>();
        try
        {
            _pmu.Read(readings);
        }
        catch (PerfEventException error)
        {
            failed.Add("perf power PMU: " + error.Message);
        }

        Stamp(readings, 0);
        var stamped = readings.Count;
        PowercapReader.Read(_sysfs, readings, denied, failed);
        Stamp(readings, stamped);
        stamped = readings.Count;
        HwmonReader.Read(_sysfs, readings, power, denied, failed);
        Stamp(readings, stamped);
        if (_powermeter is not null && _powermeter.Poll() is { } watts)
        {
            power.Add(("powermeter", watts));
        }

        Report(context, denied, failed);
        SayWhatIsLacking(context, readings.Count + power.Count > 0);
        _attribution.BeginInterval(context.Shared?.Get<DomainActivityShare>(), context.Domains);
        WriteEnergy(metrics, readings, context.Domains);

        if (power.Count > 0)
        {
            var family = metrics.Family(PowerFamilies.HostPower);
            foreach (var (sensor, value) in power)
            {
                family.Add(value, sensor);
            }
        }

        WritePowermeter(context, metrics);
    }

    public void Dispose()
    {
        _pmu.Dispose();
        _powermeter?.Dispose();
    }

    /// <summary>Each reading's time is when its reader returned, not the cycle's start (the interval must match the energy).</summary>
    private void Stamp(List<EnergyReading> readings, int from)
    {
        var now = _clock();
        for (var i = from; i < readings.Count; i++)
        {
            readings[i] = readings[i] with { At = now };
        }
    }

    private void WriteEnergy(MetricSet metrics, List<EnergyReading> readings, IReadOnlyList<VmDomain> domains)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var zonesRead = new HashSet<string>(StringComparer.Ordinal);
        MetricFamily? host = null;
        foreach (var reading in readings)
        {
            if (!seen.Add(reading.Zone + "\n" + reading.Source))
            {
                continue; // two meters of one source for one zone: the first counts
            }

            if (!_counters.TryGetValue(reading.Id, out var counter))
            {
                _counters.Add(reading.Id, counter = new EnergyCounter());
            }

            var first = !counter.Started;
            var joules = counter.Advance(reading);
            (host ??= metrics.Family(PowerFamilies.HostEnergy)).Add(counter.TotalJoules, reading.Zone, reading.Source);
            if (!_basis.TryGetValue(reading.Zone, out var basis))
            {
                _basis.Add(reading.Zone, basis = reading.Source);
            }

            if (basis == reading.Source)
            {
                zonesRead.Add(reading.Zone);
                _attribution.Add(reading.Zone, reading.Source, joules, counter.Seconds, first, counter.TotalJoules);
            }
        }

        // A meter not read this cycle (a zone that went away) keeps its total: if it comes back it goes on from there.
        var ids = readings.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var (id, counter) in _counters.Where(c => !ids.Contains(c.Key)))
        {
            counter.Suspend();
        }

        _attribution.Forget(domains);
        if (zonesRead.Count == 0)
        {
            return;
        }

        var model = _attribution.Model switch
        {
            AttributionModel.Cycles => "cycles",
            AttributionModel.CpuTime => "cpu_time",
            _ => "none",
        };
        var domainEnergy = metrics.Family(PowerFamilies.DomainEnergy);
        var unattributed = metrics.Family(PowerFamilies.Unattributed);
        var idle = metrics.Family(PowerFamilies.IdlePower);
        var info = metrics.Family(PowerFamilies.Model);
        foreach (var (zone, state) in _attribution.Zones.Where(z => zonesRead.Contains(z.Key)))
        {
            unattributed.Add(state.Unattributed, zone);
            if (state.IdleWatts is { } idleWatts)
            {
                idle.Add(idleWatts, zone);
            }

            info.Add(1, model, zone, state.Source, state.IdleWatts is null ? "unknown" : "fitted");
            foreach (var domain in domains)
            {
                if (state.Domains.TryGetValue(domain.Uuid, out var joules))
                {
                    domainEnergy.Add(joules, domain.Name, domain.Uuid.ToString(), zone);
                }
            }
        }
    }

    private void WritePowermeter(CycleContext context, MetricSet metrics)
    {
        if (_powermeter is null)
        {
            return;
        }

        var failures = metrics.Family(PowerFamilies.PowermeterFailures);
        foreach (var reason in Enum.GetValues<PowermeterFailure>())
        {
            failures.Add(_powermeter.Failures(reason), reason.ToString().ToLowerInvariant());
        }

        foreach (var (level, text) in _powermeter.TakeNotes())
        {
            if (context.Log.IsEnabled(level))
            {
                context.Log.Write(level, text);
            }
        }
    }

    private void Report(CycleContext context, List<string> denied, List<string> failed)
    {
        if (denied.Count > 0)
        {
            Say(context, LogLevel.Warning, "denied",
                $"power: {denied.Count} energy file(s) cannot be read: permission denied (kernels patched for CVE-2020-8694 let only root read energy_uj; run vmprobe as root); their zones are skipped. First: {denied[0]}");
        }

        // Each cycle's failures count in probe_errors_total; each distinct one is logged once (a bounded number of them).
        foreach (var failure in failed)
        {
            var error = new VmProbeException("power: " + failure, "power,InvalidData", ProbeErrorKind.InvalidData) { LoggedBySource = true };
            context.ItemErrors?.Add(error);
            if (_saidOnce.Count < 256)
            {
                Say(context, LogLevel.Warning, "failed:" + failure, error.Message);
            }
        }
    }

    /// <summary>After a cycle that found no power source: what the host lacks (Read-VmPower warns with it); else null.</summary>
    internal string? WhatIsLacking { get; private set; }

    private void SayWhatIsLacking(CycleContext context, bool any)
    {
        WhatIsLacking = any ? null : $"no power source on this host (sysfs {_sysfs.Root}): {Lacking()}";
        if (_hadSource == any)
        {
            return;
        }

        if (!any)
        {
            Say(context, LogLevel.Info, "none", $"power: {WhatIsLacking}; no host_energy/host_power/domain_energy series");
        }
        else if (_hadSource == false)
        {
            Say(context, LogLevel.Info, "some", "power: a power source is readable now");
        }

        _hadSource = any;
    }

    private string Lacking()
    {
        var parts = new List<string>();
        if (!_pmu.IsOpen)
        {
            parts.Add("no perf power PMU (bus/event_source/devices/power)");
        }

        parts.Add("no readable powercap energy_uj (class/powercap)");
        parts.Add("no hwmon power or energy file (class/hwmon)");
        parts.Add(_powermeter is null ? "no powermeter command configured" : "no powermeter reading yet");
        return string.Join(", ", parts);
    }

    private void Say(CycleContext context, LogLevel level, string key, string message)
    {
        if (_saidOnce.Add(key) && context.Log.IsEnabled(level))
        {
            context.Log.Write(level, message);
        }
    }
}
