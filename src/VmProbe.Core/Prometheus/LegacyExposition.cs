using System.Globalization;
using System.Text;
using VmProbe.Libvirt;
using VmProbe.Perf;
using VmProbe.Procfs;

namespace VmProbe.Prometheus;

/// <summary>
/// <c>naming: legacy</c>: turns a cycle's labelled <see cref="MetricSet"/> into the C++ vmprobe's unlabelled lines,
/// <c>&lt;prefix&gt;_global_&lt;key&gt;</c> and <c>&lt;prefix&gt;_domain_&lt;vm&gt;_&lt;key&gt;</c> (the writer adds the prefix),
/// each with HELP and TYPE gauge (untyped for a name ending in <c>_total</c>, such as <c>global_memory_total</c>, which
/// promtool would lint as a gauge) so the file stays promtool- and node_exporter-clean. Families without a legacy
/// equivalent are left out.
/// </summary>
/// <remarks>
/// Perf values are per-interval deltas, as the C++ probe (which reset its counters after each read) wrote them: this cycle's
/// cumulative count minus the previous cycle's for the same line. The first value of a line is the count since its
/// counters were opened: for targets opened by Prepare that is the first interval, exactly like the C++ probe; a domain
/// that appears later is opened during a collection, so its first value is (nearly) 0. A count lower than the previous
/// one (the VM restarted and its counters were reopened) is taken whole. Previous values of lines that disappear are
/// forgotten. VM names are made metric-safe by mapping every character outside [A-Za-z0-9_] to <c>_</c> and joining
/// unit-like tokens to their neighbour (<see cref="VmNamePart"/>, so promtool does not lint them); when two VMs of a
/// cycle map to the same name, the ordinally smallest original name keeps it and the others get <c>_</c> plus 8 hex digits
/// of an FNV-1a hash of their original name (logged once per VM). One instance per probe; not thread-safe.
/// </remarks>
public sealed partial class LegacyExposition
{
    private const string PerfHelpSuffix = ", count over the last interval (legacy vmprobe naming).";

    private static readonly (string Family, string Key, double Factor, string Help)[] GlobalGauges =
    {
        (HostProcfsFamilies.MemoryTotal.Name, "memory_total", 1.0 / 1024, "MemTotal of /proc/meminfo in kB (legacy vmprobe naming)."),
        (HostProcfsFamilies.MemoryFree.Name, "memory_free", 1.0 / 1024, "MemFree of /proc/meminfo in kB (legacy vmprobe naming)."),
        (HostProcfsFamilies.MemoryAvailable.Name, "memory_available", 1.0 / 1024, "MemAvailable of /proc/meminfo in kB (legacy vmprobe naming)."),
        (HostProcfsFamilies.MemoryBuffers.Name, "memory_buffers", 1.0 / 1024, "Buffers of /proc/meminfo in kB (legacy vmprobe naming)."),
        (HostProcfsFamilies.MemoryCached.Name, "memory_cached", 1.0 / 1024, "Cached of /proc/meminfo in kB (legacy vmprobe naming)."),
    };

    // host_cpu_seconds_total{mode} summed as libvirt's node CPU stats sum /proc/stat: kernel = system + irq + softirq, user = user + nice.
    private static readonly (string Key, string[] Modes, string Help)[] GlobalCpu =
    {
        ("cpu_kernel", new[] { "system", "irq", "softirq" }, "Host CPU time in kernel mode (system + irq + softirq), ns, cumulative (legacy vmprobe naming)."),
        ("cpu_user", new[] { "user", "nice" }, "Host CPU time in user mode (user + nice), ns, cumulative (legacy vmprobe naming)."),
        ("cpu_idle", new[] { "idle" }, "Host idle CPU time, ns, cumulative (legacy vmprobe naming)."),
        ("cpu_iowait", new[] { "iowait" }, "Host CPU time waiting for I/O, ns, cumulative (legacy vmprobe naming)."),
    };

    private static readonly (string Family, string Key, double Factor, string Help)[] DomainGauges =
    {
        (LibvirtFamilies.Vcpus.Name, "cpu_alloc", 1, "vCPUs of the domain"),
        (LibvirtFamilies.Cpu.Name, "cpu_cputime", 1e9, "CPU time of the domain's QEMU process, ns, cumulative"),
        (LibvirtFamilies.CpuUser.Name, "cpu_usertime", 1e9, "User CPU time of the domain's QEMU process, ns, cumulative"),
        (LibvirtFamilies.CpuSystem.Name, "cpu_systemtime", 1e9, "System CPU time of the domain's QEMU process, ns, cumulative"),
        (LibvirtFamilies.BalloonCurrent.Name, "memory_actual", 1.0 / 1024, "Memory assigned to the domain (balloon current), kB"),
        (LibvirtFamilies.Rss.Name, "memory_rss", 1.0 / 1024, "Resident set size of the domain's QEMU process, kB"),
        (LibvirtFamilies.Available.Name, "memory_available", 1.0 / 1024, "Memory the guest sees as total, kB"),
        (LibvirtFamilies.Unused.Name, "memory_unused", 1.0 / 1024, "Memory the guest leaves unused, kB"),
        (LibvirtFamilies.Usable.Name, "memory_usable", 1.0 / 1024, "Memory the guest could use without swapping, kB"),
    };

    private readonly IProbeLog log;
    private readonly int delayMs;
    private readonly Dictionary<string, string> perfKeys = new(StringComparer.Ordinal); // event label -> perf_<key>
    private readonly Dictionary<string, double> previous = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> current = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> vmNames = new(StringComparer.Ordinal); // VM name -> metric-safe name, this cycle
    private readonly Dictionary<string, string> sanitizedCache = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Vm, string Key), string> lineNames = new();
    private readonly Dictionary<string, double> sums = new(StringComparer.Ordinal);
    private readonly HashSet<string> collisionsLogged = new(StringComparer.Ordinal);
    private readonly List<string> order = new();

    /// <param name="events">The configured perf events: their legacy keys are derived from these.</param>
    /// <param name="delayMs">The configured delay, exported as <c>global_probe_delay</c> (ms).</param>
    /// <param name="log">Where VM name collisions are reported (once per VM).</param>
    public LegacyExposition(IReadOnlyList<PerfEventSpec> events, int delayMs, IProbeLog log)
    {
        ArgumentNullException.ThrowIfNull(events);
        this.log = log ?? throw new ArgumentNullException(nameof(log));
        this.delayMs = delayMs;
        foreach (var spec in events)
        {
            perfKeys.TryAdd(spec.CanonicalName, PerfKey(spec));
        }
    }

    /// <summary>
    /// The legacy lines for one cycle: a new <see cref="MetricSet"/> of unlabelled gauges (names without prefix).
    /// Call once per cycle, in cycle order: perf deltas are taken against the previous call.
    /// </summary>
    /// <param name="labelled">The cycle's labelled metrics.</param>
    /// <param name="cycleTime">
    /// The cycle's time when <paramref name="labelled"/> has no <c>probe_last_cycle_timestamp_seconds</c> (samples piped
    /// to Export-PromTextFile carry no cycle family): without either, <c>global_probe_epoch</c> is left out.
    /// </param>
    public MetricSet Transform(MetricSet labelled, DateTimeOffset? cycleTime = null)
    {
        ArgumentNullException.ThrowIfNull(labelled);
        var output = new MetricSet();
        AssignVmNames(labelled);
        current.Clear();

        double? epoch = labelled.TryGet(ProbeFamilies.LastCycleTimestamp.Name, out var timestamp) && timestamp.Samples.Count > 0
            ? timestamp.Samples[0].Value
            : cycleTime?.ToUnixTimeMilliseconds() / 1000.0;
        if (epoch is { } seconds)
        {
            Line(output, "global_probe_epoch", "Unix time of the cycle, seconds (legacy vmprobe naming).").Add(Math.Floor(seconds));
        }

        Line(output, "global_probe_delay", "Configured delay between two cycles, ms (legacy vmprobe naming).").Add(delayMs);

        foreach (var (family, key, factor, help) in GlobalGauges)
        {
            if (labelled.TryGet(family, out var f) && f.Samples.Count > 0)
            {
                Line(output, "global_" + key, help).Add(f.Samples[0].Value * factor);
            }
        }

        AddHostCpu(labelled, output);
        AddPerf(labelled, PerfSampleFamilies.HostEvents.Name, null, output);

        foreach (var (family, key, factor, help) in DomainGauges)
        {
            if (!labelled.TryGet(family, out var f) || f.LabelNames.Count == 0 || f.LabelNames[0] != "domain")
            {
                continue;
            }

            foreach (var sample in f.Samples)
            {
                var vm = sample.LabelValues[0];
                Line(output, LineName(vmNames[vm], key), $"{help}, domain {vm} (legacy vmprobe naming).")
                    .Add(sample.Value * factor);
            }
        }

        AddPerf(labelled, PerfSampleFamilies.DomainEvents.Name, "domain", output);

        // Only the lines of this cycle are remembered: a VM that comes back starts from its new counters.
        previous.Clear();
        foreach (var (name, value) in current)
        {
            previous[name] = value;
        }

        return output;
    }

    /// <summary>The metric-safe name each VM of this cycle gets (after collision handling), for the labelled set given last.</summary>
    public IReadOnlyDictionary<string, string> VmNames => vmNames;

    private void AssignVmNames(MetricSet labelled)
    {
        order.Clear();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var family in labelled.Families)
        {
            if (family.LabelNames.Count == 0 || family.LabelNames[0] != "domain" || !family.Name.StartsWith("domain_", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var sample in family.Samples)
            {
                if (seen.Add(sample.LabelValues[0]))
                {
                    order.Add(sample.LabelValues[0]);
                }
            }
        }

        order.Sort(StringComparer.Ordinal);
        vmNames.Clear();
        var taken = new Dictionary<string, string>(StringComparer.Ordinal); // sanitized -> first owner
        foreach (var vm in order)
        {
            if (!sanitizedCache.TryGetValue(vm, out var safe))
            {
                safe = VmNamePart(vm);
                sanitizedCache[vm] = safe;
            }

            if (taken.TryGetValue(safe, out var owner))
            {
                var renamed = safe + CollisionSuffix(vm);
                vmNames[vm] = renamed;
                if (collisionsLogged.Add(vm))
                {
                    log.Write(LogLevel.Warning,
                        $"legacy naming: domain '{vm}' and domain '{owner}' both map to metric name part '{safe}'; '{vm}' is written as '{renamed}'");
                }
            }
            else
            {
                taken.Add(safe, vm);
                vmNames[vm] = safe;
            }
        }

        if (sanitizedCache.Count > 4 * Math.Max(64, order.Count))
        {
            sanitizedCache.Clear(); // bounded: VM names churn over weeks
            lineNames.Clear();
        }
    }

    private void AddHostCpu(MetricSet labelled, MetricSet output)
    {
        if (!labelled.TryGet(HostProcfsFamilies.CpuSeconds.Name, out var cpu) || cpu.LabelNames.Count != 1 || cpu.LabelNames[0] != "mode")
        {
            return;
        }

        foreach (var (key, modes, help) in GlobalCpu)
        {
            double seconds = 0;
            var found = false;
            foreach (var sample in cpu.Samples)
            {
                if (Array.IndexOf(modes, sample.LabelValues[0]) >= 0)
                {
                    seconds += sample.Value;
                    found = true;
                }
            }

            if (found)
            {
                Line(output, "global_" + key, help).Add(Math.Round(seconds * 1e9));
            }
        }
    }

    /// <summary>Perf families: summed per (VM, event) over any other label (cpu), then turned into deltas.</summary>
    private void AddPerf(MetricSet labelled, string familyName, string? domainLabel, MetricSet output)
    {
        if (!labelled.TryGet(familyName, out var family))
        {
            return;
        }

        var eventIndex = IndexOf(family.LabelNames, "event");
        var domainIndex = domainLabel is null ? -1 : IndexOf(family.LabelNames, domainLabel);
        if (eventIndex < 0 || (domainLabel is not null && domainIndex < 0))
        {
            return;
        }

        sums.Clear();
        var lines = new List<(string Line, string Vm, string Event)>();
        foreach (var sample in family.Samples)
        {
            var eventName = sample.LabelValues[eventIndex];
            if (!perfKeys.TryGetValue(eventName, out var key))
            {
                key = "perf_" + SanitizeName(eventName);
                perfKeys[eventName] = key;
            }

            var vm = domainIndex < 0 ? null : sample.LabelValues[domainIndex];
            var line = vm is null ? LineName(null, key) : LineName(vmNames[vm], key);
            if (sums.TryGetValue(line, out var sum))
            {
                sums[line] = sum + sample.Value;
            }
            else
            {
                sums[line] = sample.Value;
                lines.Add((line, vm ?? string.Empty, eventName));
            }
        }

        foreach (var (line, vm, eventName) in lines)
        {
            var value = sums[line];
            current[line] = value;
            var delta = previous.TryGetValue(line, out var before) && value >= before ? value - before : value;
            var help = vm.Length == 0
                ? $"Perf event {eventName} on the host (all CPUs){PerfHelpSuffix}"
                : $"Perf event {eventName} of domain {vm}{PerfHelpSuffix}";
            Line(output, line, help).Add(delta);
        }
    }

    /// <summary>A legacy line: a gauge, or untyped when its fixed name ends in _total (global_memory_total), which promtool lints as a gauge.</summary>
    private static MetricFamily Line(MetricSet output, string name, string help) =>
        output.Family(name, name.EndsWith("_total", StringComparison.Ordinal) ? MetricType.Untyped : MetricType.Gauge, help);

    private string LineName(string? vm, string key)
    {
        var cacheKey = (vm ?? "\0", key); // a VM named "" must not get the global line
        if (!lineNames.TryGetValue(cacheKey, out var name))
        {
            name = vm is null ? "global_" + key : "domain_" + vm + "_" + key;
            lineNames[cacheKey] = name;
        }

        return name;
    }

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
}
