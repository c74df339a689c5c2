using System.Text.RegularExpressions;
using static VmProbe.Config.ConfigLoader;

namespace VmProbe.Config;

/// <summary>The C++ vmprobe's config form: one key=value per line, '#' comments.</summary>
internal static partial class KeyValueConfigReader
{
    /// <summary>
    /// The C++ vmprobe's files are key=value lines: detected when some line is key=value and none looks like YAML
    /// (a "key:" mapping, a "- " item or a document marker).
    /// </summary>
    public static bool LooksLikeKeyValue(string text)
    {
        var sawKeyValue = false;
        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            var line = rawLine.Trim();
            if (line.IsEmpty || line[0] == '#')
            {
                continue;
            }

            if (YamlConfigReader.YamlKeyLine().IsMatch(line) || line.StartsWith("- ") || line.SequenceEqual("-") || line.StartsWith("---") || line[0] == '{')
            {
                return false;
            }

            sawKeyValue |= KeyValueLine().IsMatch(line);
        }

        return sawKeyValue;
    }

    public static List<RawConfigEntry> Read(string text, ConfigParseState state)
    {
        var entries = new List<RawConfigEntry>();
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var eq = line.IndexOf('=');
            if (eq <= 0)
            {
                state.Error(lineNumber, FileKey, $"expected key=value, got '{line}'");
                continue;
            }

            var key = line[..eq].Trim();
            var value = line[(eq + 1)..].Trim();
            entries.Add(new RawConfigEntry(key, lineNumber, value, null));
        }

        return entries;
    }

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_-]*\s*=")]
    private static partial Regex KeyValueLine();
}
