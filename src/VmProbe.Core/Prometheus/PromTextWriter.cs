using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace VmProbe.Prometheus;

/// <summary>
/// Writes a <see cref="MetricSet"/> in the Prometheus text exposition format 0.0.4, as node_exporter's textfile
/// collector reads it: one <c># HELP</c> and <c># TYPE</c> per family, the family's samples together, no timestamps,
/// a final newline. Names get the prefix (<c>prefix_name</c>) and are sanitized; label values and HELP are escaped.
/// Duplicate series (same label values twice in a family) and families whose sanitized name clashes with an
/// earlier one are dropped (first wins) and reported in the returned <see cref="PromWriteResult"/> and as a warning,
/// because node_exporter would otherwise drop them silently or fail the whole file.
/// </summary>
/// <remarks>
/// Runs every cycle over tens of thousands of series, so it formats straight into UTF-8 spans and reuses its
/// buffer and lookup tables; name translations are cached per raw name, and each series' key (name and escaped labels)
/// is rendered once per series lifetime (<see cref="CacheSeries"/>, PromTextWriter.Series.cs), so a cycle formats only
/// values. Not thread-safe: one instance per writer loop.
/// </remarks>
public sealed partial class PromTextWriter
{
    public const string DefaultPrefix = "vmprobe";

    /// <summary>Prefixes node_exporter itself uses; a family of ours with such a name would be dropped silently.</summary>
    private static readonly string[] ReservedPrefixes = ["node", "go", "process", "promhttp"];

    private const string HistogramBoundLabel = "le";

    private readonly IProbeLog _log;
    private readonly Dictionary<string, byte[]> _familyNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _labelNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (IReadOnlyList<string> Raw, byte[][] Utf8)> _familyLabelNames = new(StringComparer.Ordinal);
    private readonly HashSet<string[]> _seenLabelSets = new(LabelValuesComparer.Instance);
    private readonly HashSet<byte[]> _seenFamilyNames = new(ByteArrayComparer.Instance);
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);

    /// <param name="prefix">Prepended to every family name with an underscore (<c>vmprobe</c> gives <c>vmprobe_host_...</c>);
    /// sanitized (<c>my-probe</c> becomes <c>my_probe</c>); empty for none.</param>
    /// <param name="log">Receives a warning when series or families are dropped.</param>
    /// <exception cref="VmProbeException">The prefix would make our names clash with node_exporter's own metrics.</exception>
    public PromTextWriter(string prefix = DefaultPrefix, IProbeLog? log = null)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        _log = log ?? NullProbeLog.Instance;
        Prefix = prefix.Length == 0 ? string.Empty : SanitizeMetricName(prefix);
        foreach (var reserved in ReservedPrefixes)
        {
            if (Prefix == reserved || Prefix.StartsWith(reserved + "_", StringComparison.Ordinal))
            {
                throw new VmProbeException(
                    $"Metric prefix '{prefix}' clashes with node_exporter's own '{reserved}_' metrics, which node_exporter would silently drop.",
                    "prometheus_prefix,reserved",
                    ProbeErrorKind.InvalidArgument)
                {
                    RecommendedAction = $"Choose another metric prefix, for example '{DefaultPrefix}'.",
                };
            }
        }
    }

    /// <summary>The sanitized prefix, without the joining underscore.</summary>
    public string Prefix { get; }

    /// <summary>The full exposed name of a family name, for example <c>vmprobe_host_cpu_seconds_total</c>.</summary>
    public string ExposedName(string familyName) => Encoding.UTF8.GetString(FamilyNameUtf8(familyName));

    /// <summary>
    /// Renders into this writer's reusable buffer. The returned memory is valid until the next call on this instance.
    /// </summary>
    public ReadOnlyMemory<byte> Render(MetricSet metrics, out PromWriteResult result)
    {
        _buffer.ResetWrittenCount();
        ReserveFor(metrics);
        result = Write(metrics, _buffer);
        return _buffer.WrittenMemory;
    }

    // The buffer grows by doubling: a first megabyte-sized file would allocate (and fault in) about four megabytes of
    // new arrays on the way, each copied into the next. Reserving what the set will need makes it one array.
    private void ReserveFor(MetricSet metrics)
    {
        const int BytesPerSeries = 128, BytesPerFamily = 256;
        long estimate = 0;
        var families = metrics.Families;
        for (var i = 0; i < families.Count; i++)
        {
            estimate += BytesPerFamily + ((long)families[i].Samples.Count * BytesPerSeries); // by index: every cycle, no enumerator
        }

        if (estimate > _buffer.Capacity && estimate < int.MaxValue / 2)
        {
            _buffer.GetSpan((int)estimate);
        }
    }

    /// <summary>Writes the exposition to a stream (rendered into the reusable buffer first, then one write).</summary>
    public PromWriteResult Write(MetricSet metrics, Stream output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var bytes = Render(metrics, out var result);
        output.Write(bytes.Span);
        return result;
    }

    /// <summary>Writes the exposition into <paramref name="output"/> directly.</summary>
    private string? _lastProblem;

    public PromWriteResult Write(MetricSet metrics, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(output);

        int families = 0, series = 0, duplicates = 0, clashing = 0;
        string? firstProblem = null;
        _seenFamilyNames.Clear();
        BeginCycle();

        foreach (var family in metrics.Families)
        {
            if (family.Samples.Count == 0)
            {
                continue; // an empty family would be a HELP/TYPE without samples: noise, omitted
            }

            var name = FamilyNameUtf8(family.Name);
            if (!_seenFamilyNames.Add(name))
            {
                clashing++;
                firstProblem ??= $"metric family '{family.Name}' is exposed as '{Encoding.UTF8.GetString(name)}', which an earlier family already uses";
                continue;
            }

            var labelNames = LabelNamesUtf8(family, out var labelProblem);
            if (labelNames is not null && family.Type == MetricType.Histogram && family.LabelNames.Contains(HistogramBoundLabel))
            {
                labelNames = null;
                labelProblem = $"histogram '{family.Name}' has a label 'le', which Prometheus reserves for its buckets";
            }

            if (labelNames is null)
            {
                clashing++;
                firstProblem ??= labelProblem;
                continue;
            }

            families++;
            if (CacheSeries)
            {
                var (written, dropped) = WriteFamilyCached(output, name, labelNames, family, ref firstProblem);
                series += written;
                duplicates += dropped;
                continue;
            }

            WriteHeader(output, name, family);
            _seenLabelSets.Clear();
            foreach (var sample in family.Samples)
            {
                if (!_seenLabelSets.Add(sample.LabelValues))
                {
                    duplicates++;
                    firstProblem ??= $"duplicate series {family.Name}{{{string.Join(",", sample.LabelValues)}}}";
                    continue;
                }

                series++;
                if (family.Type == MetricType.Histogram)
                {
                    WriteHistogram(output, name, labelNames, sample);
                }
                else
                {
                    WriteSample(output, name, labelNames, sample);
                }
            }
        }

        if (CacheSeries)
        {
            EndCycle();
        }

        // Once per change, not every cycle: the same two domains sharing a name would otherwise repeat it forever.
        var problem = duplicates + clashing > 0 ? $"{duplicates}/{clashing}/{firstProblem}" : null;
        if (problem != _lastProblem)
        {
            if (problem is not null && _log.IsEnabled(LogLevel.Warning))
            {
                _log.Write(LogLevel.Warning, $"Prometheus output: dropped {duplicates} duplicate series and {clashing} clashing families (first: {firstProblem}); said again only when this changes.");
            }
            else if (problem is null && _log.IsEnabled(LogLevel.Info))
            {
                _log.Write(LogLevel.Info, "Prometheus output: no duplicate series or clashing families any more.");
            }

            _lastProblem = problem;
        }

        return new PromWriteResult(families, series, duplicates, clashing);
    }

    /// <summary>Replaces characters outside <c>[a-zA-Z0-9_:]</c> with '_' and prepends '_' to a leading digit.</summary>
    public static string SanitizeMetricName(string name) => Sanitize(name, allowColon: true);

    /// <summary>Replaces characters outside <c>[a-zA-Z0-9_]</c> with '_' and prepends '_' to a leading digit.</summary>
    public static string SanitizeLabelName(string name) => Sanitize(name, allowColon: false);

    private static string Sanitize(string name, bool allowColon)
    {
        if (name.Length == 0)
        {
            return "_";
        }

        var leadingDigit = char.IsAsciiDigit(name[0]);
        var builder = new StringBuilder(name.Length + 1);
        if (leadingDigit)
        {
            builder.Append('_');
        }

        foreach (var c in name)
        {
            var ok = char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':');
            builder.Append(ok ? c : '_');
        }

        return builder.ToString();
    }

    private byte[] FamilyNameUtf8(string familyName)
    {
        if (!_familyNames.TryGetValue(familyName, out var utf8))
        {
            var full = Prefix.Length == 0 ? familyName : Prefix + "_" + familyName;
            utf8 = Encoding.UTF8.GetBytes(SanitizeMetricName(full));
            _familyNames.Add(familyName, utf8);
        }

        return utf8;
    }

    private byte[][]? LabelNamesUtf8(MetricFamily family, out string? problem)
    {
        problem = null;
        if (_familyLabelNames.TryGetValue(family.Name, out var cached) && cached.Raw.SequenceEqual(family.LabelNames))
        {
            return cached.Utf8;
        }

        var names = new byte[family.LabelNames.Count][];
        for (var i = 0; i < names.Length; i++)
        {
            var raw = family.LabelNames[i];
            if (!_labelNames.TryGetValue(raw, out var utf8))
            {
                utf8 = Encoding.UTF8.GetBytes(SanitizeLabelName(raw));
                _labelNames.Add(raw, utf8);
            }

            for (var j = 0; j < i; j++)
            {
                if (names[j].AsSpan().SequenceEqual(utf8))
                {
                    problem = $"metric family '{family.Name}' has labels '{family.LabelNames[j]}' and '{raw}' that both become '{Encoding.UTF8.GetString(utf8)}'";
                    return null;
                }
            }

            names[i] = utf8;
        }

        _familyLabelNames[family.Name] = (family.LabelNames.ToArray(), names);
        return names;
    }

    private void WriteHeader(IBufferWriter<byte> output, byte[] name, MetricFamily family)
    {
        WriteBytes(output, "# HELP "u8);
        WriteBytes(output, name);
        if (family.Help.Length > 0)
        {
            WriteBytes(output, " "u8);
            WriteEscaped(output, family.Help, escapeQuote: false);
        }

        WriteBytes(output, "\n# TYPE "u8);
        WriteBytes(output, name);
        WriteBytes(output, family.Type switch
        {
            MetricType.Counter => " counter\n"u8,
            MetricType.Untyped => " untyped\n"u8,
            MetricType.Histogram => " histogram\n"u8,
            _ => " gauge\n"u8,
        });
    }

    private sealed class LabelValuesComparer : IEqualityComparer<string[]>
    {
        public static readonly LabelValuesComparer Instance = new();

        public bool Equals(string[]? x, string[]? y)
        {
            if (ReferenceEquals(x, y))
            {
                return true;
            }

            if (x is null || y is null || x.Length != y.Length)
            {
                return false;
            }

            for (var i = 0; i < x.Length; i++)
            {
                if (!string.Equals(x[i] ?? string.Empty, y[i] ?? string.Empty, StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }

        public int GetHashCode(string[] values)
        {
            var hash = new HashCode();
            foreach (var value in values)
            {
                hash.Add(value ?? string.Empty, StringComparer.Ordinal);
            }

            return hash.ToHashCode();
        }
    }

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

        public int GetHashCode(byte[] bytes)
        {
            var hash = new HashCode();
            hash.AddBytes(bytes);
            return hash.ToHashCode();
        }
    }
}
