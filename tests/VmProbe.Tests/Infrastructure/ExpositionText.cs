using System.Globalization;
using System.Text;

namespace VmProbe.Tests.Infrastructure;

/// <summary>One sample line of a text exposition: name, labels (unescaped values) and value.</summary>
public sealed record ExposedSeries(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    /// <summary>Canonical identity: <c>name{a="x",b="y"}</c> with labels sorted and values re-escaped, for set comparisons.</summary>
    public string Key => ExpositionText.SeriesKey(Name, Labels);
}

/// <summary>
/// A small, strict reader of the Prometheus text format 0.0.4 for tests: it lets a test compare what we wrote with
/// what node_exporter serves. Independent of the writer under test (it is the test's own oracle).
/// </summary>
public static class ExpositionText
{
    /// <summary>All sample lines, in order. Throws <see cref="FormatException"/> naming the line for anything it cannot read.</summary>
    public static List<ExposedSeries> Parse(string text)
    {
        var result = new List<ExposedSeries>();
        var lineNumber = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNumber++;
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            try
            {
                result.Add(ParseLine(line));
            }
            catch (Exception e) when (e is FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                throw new FormatException($"line {lineNumber}: cannot parse '{line}': {e.Message}", e);
            }
        }

        return result;
    }

    /// <summary>HELP and TYPE comments by metric name (HELP unescaped).</summary>
    public static Dictionary<string, (string? Help, string? Type)> Headers(string text)
    {
        var result = new Dictionary<string, (string? Help, string? Type)>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var parts = line.Split(' ', 4);
            if (parts.Length < 3 || parts[0] != "#")
            {
                continue;
            }

            result.TryGetValue(parts[2], out var entry);
            var rest = parts.Length == 4 ? parts[3] : string.Empty;
            if (parts[1] == "HELP")
            {
                entry.Help = Unescape(rest, 0, rest.Length);
            }
            else if (parts[1] == "TYPE")
            {
                entry.Type = rest;
            }

            result[parts[2]] = entry;
        }

        return result;
    }

    /// <summary>The value of the one series with exactly this name and these labels, or null.</summary>
    public static double? ValueOf(IEnumerable<ExposedSeries> series, string name, params (string Name, string Value)[] labels)
    {
        var key = SeriesKey(name, labels.ToDictionary(l => l.Name, l => l.Value));
        return series.Where(s => s.Key == key).Select(s => (double?)s.Value).SingleOrDefault();
    }

    public static string SeriesKey(string name, IReadOnlyDictionary<string, string> labels)
    {
        if (labels.Count == 0)
        {
            return name;
        }

        var parts = labels.OrderBy(l => l.Key, StringComparer.Ordinal)
            .Select(l => $"{l.Key}=\"{l.Value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n")}\"");
        return $"{name}{{{string.Join(",", parts)}}}";
    }

    private static ExposedSeries ParseLine(string line)
    {
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ')
        {
            i++;
        }

        var name = line[..i];
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                var eq = line.IndexOf('=', i);
                var labelName = line[i..eq];
                if (line[eq + 1] != '"')
                {
                    throw new FormatException($"label {labelName} value is not quoted");
                }

                var start = eq + 2;
                var end = start;
                while (line[end] != '"')
                {
                    end += line[end] == '\\' ? 2 : 1;
                }

                if (!labels.TryAdd(labelName, Unescape(line, start, end)))
                {
                    throw new FormatException($"label {labelName} repeated");
                }

                i = end + 1;
                if (line[i] == ',')
                {
                    i++;
                }
            }

            i++;
        }

        var fields = line[i..].Trim().Split(' ');
        if (fields.Length != 1)
        {
            throw new FormatException("expected exactly one value and no timestamp");
        }

        return new ExposedSeries(name, labels, ParseValue(fields[0]));
    }

    private static double ParseValue(string text) => text switch
    {
        "NaN" => double.NaN,
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    private static string Unescape(string text, int start, int end)
    {
        var builder = new StringBuilder(end - start);
        for (var i = start; i < end; i++)
        {
            if (text[i] == '\\' && i + 1 < end)
            {
                i++;
                builder.Append(text[i] switch { 'n' => '\n', var c => c });
            }
            else
            {
                builder.Append(text[i]);
            }
        }

        return builder.ToString();
    }
}
