using System.Reflection;
using System.Text.RegularExpressions;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Prometheus;

/// <summary>Every family is declared once, as a <see cref="MetricDesc"/>, with a valid name, and nowhere else.</summary>
public class MetricDescTests
{
    private static readonly Regex MetricName = new("^[a-z_][a-z0-9_]*$", RegexOptions.CultureInvariant);
    private static readonly Regex LabelName = new("^[a-z_][a-z0-9_]*$", RegexOptions.CultureInvariant);

    /// <summary>Every public static MetricDesc of the engine, with the class that declares it.</summary>
    public static IReadOnlyList<(Type Declarer, string Field, MetricDesc Desc)> Declared() =>
        typeof(MetricDesc).Assembly.GetTypes()
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(f => f.FieldType == typeof(MetricDesc))
            .Select(f => (f.DeclaringType!, f.Name, (MetricDesc)f.GetValue(null)!))
            .ToList();

    [Fact]
    public void EveryFamilyTheRunnerWritesIsDeclared()
    {
        var names = Declared().Select(d => d.Desc.Name).ToHashSet();
        foreach (var name in new[]
                 {
                     "host_cpu_seconds_total", "host_pressure_io_full_seconds_total", "host_load15", "domain_sched_wait_seconds_total",
                     "domain_vcpu_sched_timeslices_total", "domain_info", "domains", "domain_network_transmit_drops_total",
                     "host_perf_events_total", "domain_vcpu_perf_events_total", "probe_event_supported", "probe_info", "probe_open_fds",
                 })
        {
            Assert.Contains(name, names);
        }

        Assert.True(names.Count > 60, $"only {names.Count} families declared");
    }

    [Fact]
    public void NamesAreValidUniqueAndOnlyCountersEndInTotal()
    {
        var declared = Declared();
        foreach (var (declarer, field, desc) in declared)
        {
            var where = $"{declarer.Name}.{field} ({desc.Name})";
            Assert.True(MetricName.IsMatch(desc.Name), $"{where}: not a Prometheus metric name");
            Assert.True(desc.Type is MetricType.Counter or MetricType.Gauge or MetricType.Histogram, $"{where}: declared families are counters, gauges or histograms");
            Assert.True(desc.Name.EndsWith("_total", StringComparison.Ordinal) == (desc.Type == MetricType.Counter),
                $"{where}: _total if and only if a counter");
            Assert.False(string.IsNullOrWhiteSpace(desc.Help), $"{where}: no help");
            Assert.All(desc.LabelNames, l => Assert.True(LabelName.IsMatch(l) && !l.StartsWith("__", StringComparison.Ordinal), $"{where}: bad label '{l}'"));
            Assert.Equal(desc.LabelNames.Count, desc.LabelNames.Distinct().Count());
            if (desc.Unit.Length > 0)
            {
                var stem = desc.Type == MetricType.Counter ? desc.Name[..^"_total".Length] : desc.Name;
                Assert.True(stem.EndsWith("_" + desc.Unit, StringComparison.Ordinal), $"{where}: unit {desc.Unit} is not the name's suffix");
            }
        }

        // One declaration per name, except a family with alternative label sets (the host's perf series per CPU or not):
        // those are declared side by side in one class, with the same type, and differ in their labels.
        foreach (var group in declared.GroupBy(d => d.Desc.Name).Where(g => g.Count() > 1))
        {
            Assert.Single(group.Select(d => d.Declarer).Distinct());
            Assert.Single(group.Select(d => d.Desc.Type).Distinct());
            Assert.Equal(group.Count(), group.Select(d => string.Join(",", d.Desc.LabelNames)).Distinct().Count());
        }

        // The same descriptor object is not exposed twice under two field names.
        Assert.Equal(declared.Count, declared.Select(d => d.Desc).Distinct().Count());
    }

    [Fact]
    public void NoFamilyNameOrHelpLiteralOutsideTheDeclarations()
    {
        var declared = Declared().Select(d => d.Desc).ToList();
        var names = declared.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
        var helps = declared.Select(d => d.Help).ToHashSet(StringComparer.Ordinal);
        var literal = new Regex("\"((?:[^\"\\\\\\n]|\\\\.)*)\"", RegexOptions.CultureInvariant);
        var src = Path.Combine(RepoPaths.Root, "src");
        var offenders = new List<string>();
        foreach (var file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(src, file);
            if (relative.Contains("/obj/", StringComparison.Ordinal) || relative.Contains("/bin/", StringComparison.Ordinal)
                || Path.GetFileName(file).EndsWith("Families.cs", StringComparison.Ordinal))
            {
                continue;
            }

            // Code only: doc comments name families and parameters (<paramref name="domains"/>).
            var code = string.Join('\n', File.ReadLines(file).Where(l => !l.TrimStart().StartsWith("//", StringComparison.Ordinal)));
            foreach (Match m in literal.Matches(code))
            {
                var text = m.Groups[1].Value;
                if (names.Contains(text) || helps.Contains(text) || helps.Any(h => text.Length > 40 && h.Contains(text, StringComparison.Ordinal)))
                {
                    offenders.Add($"{relative}: \"{text}\"");
                }
            }
        }

        Assert.True(offenders.Count == 0, string.Join(Environment.NewLine, offenders));
    }
}
