using System.Text.RegularExpressions;
using VmProbe.Tests.Infrastructure;

namespace VmProbe.Tests.Examples;

/// <summary>One label matcher of a PromQL selector (<c>event="instructions"</c>, <c>domain=~"web.*"</c>), value unescaped.</summary>
public sealed record LabelMatcher(string Label, string Op, string Value)
{
    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        var actual = labels.TryGetValue(Label, out var v) ? v : string.Empty;
        return Op switch
        {
            "=" => actual == Value,
            "!=" => actual != Value,
            "=~" => Regex.IsMatch(actual, $"^(?:{Value})$", RegexOptions.CultureInvariant),
            "!~" => !Regex.IsMatch(actual, $"^(?:{Value})$", RegexOptions.CultureInvariant),
            _ => throw new FormatException($"unknown matcher operator '{Op}'"),
        };
    }

    public override string ToString() => $"{Label}{Op}\"{Value}\"";
}

/// <summary>A vector selector of a PromQL expression: a metric name and its matchers.</summary>
public sealed record SeriesSelector(string Name, IReadOnlyList<LabelMatcher> Matchers)
{
    public override string ToString() => Matchers.Count == 0 ? Name : $"{Name}{{{string.Join(",", Matchers)}}}";

    /// <summary>As a PromQL selector on its own (for asking Prometheus whether it selects anything).</summary>
    public string ToPromQl() => ToString().Replace(@"\", @"\\", StringComparison.Ordinal);
}

/// <summary>
/// What series a query of the examples needs, and which of those this host may legitimately lack. The selectors are
/// found by the metric names' prefixes (<c>vmprobe_</c> as the probe writes, <c>vmprobe:</c> as the rules record,
/// <c>node_</c> as node_exporter serves), which is all the examples use; a recorded name stands for the selectors of
/// its rule's expression.
/// </summary>
public static class SeriesRequirements
{
    // Labels the scrape adds: the file never has them.
    private static readonly HashSet<string> ScrapeLabels = new(StringComparer.Ordinal) { "instance", "job" };

    private static readonly Regex Selector = new(
        @"(?<![\w:])(?<name>(?:vmprobe[_:]|node_)[A-Za-z0-9_:]*)\s*(?:\{(?<matchers>[^}]*)\})?", RegexOptions.CultureInvariant);

    private static readonly Regex Matcher = new(@"(?<label>\w+)\s*(?<op>=~|!~|!=|=)\s*""(?<value>(?:[^""\\]|\\.)*)""", RegexOptions.CultureInvariant);

    // Hardware perf events (the README's event table): counted only where the kernel has a hardware PMU.
    private static readonly HashSet<string> HardwareEvents = new(StringComparer.Ordinal)
    {
        "cpu_cycles", "instructions", "cache_references", "cache_misses", "branch_instructions", "branch_misses",
        "bus_cycles", "ref_cpu_cycles", "stalled_cycles_frontend", "stalled_cycles_backend",
    };

    /// <summary>The vector selectors of <paramref name="expr"/>, recorded names replaced by their rules' selectors.</summary>
    public static IReadOnlyList<SeriesSelector> Of(string expr, IReadOnlyDictionary<string, string>? recordingRules = null)
    {
        var result = new List<SeriesSelector>();
        foreach (Match m in Selector.Matches(expr))
        {
            var name = m.Groups["name"].Value;
            if (name.StartsWith("vmprobe:", StringComparison.Ordinal))
            {
                if (recordingRules is null || !recordingRules.TryGetValue(name, out var recorded))
                {
                    throw new InvalidOperationException($"'{expr}' uses the recorded series {name}, which no recording rule defines");
                }

                result.AddRange(Of(recorded, recordingRules));
                continue;
            }

            var matchers = Matcher.Matches(m.Groups["matchers"].Value)
                .Select(x => new LabelMatcher(x.Groups["label"].Value, x.Groups["op"].Value, Regex.Unescape(x.Groups["value"].Value)))
                .ToList();
            result.Add(new SeriesSelector(name, matchers));
        }

        return result;
    }

    /// <summary>True when a series of the probe's file satisfies the selector (labels added by the scrape ignored).</summary>
    public static bool InFile(SeriesSelector selector, IEnumerable<ExposedSeries> file) =>
        file.Any(s => s.Name == selector.Name && selector.Matchers.Where(x => !ScrapeLabels.Contains(x.Label)).All(x => x.Matches(s.Labels)));

    /// <summary>
    /// Why a host may not have the series of <paramref name="selector"/> (the component it needs), or null when every
    /// host running the probe with the test's config must have it.
    /// </summary>
    public static string? HostDependence(SeriesSelector selector, string prefix)
    {
        var name = selector.Name.StartsWith(prefix + "_", StringComparison.Ordinal) ? selector.Name[(prefix.Length + 1)..] : selector.Name;
        if (name.StartsWith("domain_kvm_", StringComparison.Ordinal) || name.StartsWith("domain_vcpu_kvm_", StringComparison.Ordinal)
            || name.StartsWith("host_kvm_", StringComparison.Ordinal))
        {
            return "VM exits and KVM statistics need KVM (/dev/kvm and a KVM domain; the test domains run under TCG)";
        }

        if (name.StartsWith("domain_cpu_haltpoll_", StringComparison.Ordinal))
        {
            return "libvirt reports halt polling only for KVM domains";
        }

        if (name.StartsWith("host_sched_", StringComparison.Ordinal))
        {
            return "host run-queue series need /proc/schedstat (CONFIG_SCHEDSTATS)";
        }

        if (name.Contains("perf_events_total", StringComparison.Ordinal)
            && selector.Matchers.Any(m => m.Label == "event" && m.Op == "=" && HardwareEvents.Contains(m.Value)))
        {
            return "hardware perf events (instructions, cycles) need a hardware PMU";
        }

        return null;
    }
}
