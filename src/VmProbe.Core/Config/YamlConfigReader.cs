using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using static VmProbe.Config.ConfigLoader;

namespace VmProbe.Config;

/// <summary>
/// Reads a YAML config, a single mapping of key: value or key: [list] pairs, into <see cref="RawConfigEntry"/> lines; the
/// structure is checked by <see cref="YamlStructureGuard"/> before YamlDotNet builds any node.
/// </summary>
internal static partial class YamlConfigReader
{
    public static List<RawConfigEntry> Read(string text, ConfigParseState state)
    {
        var entries = new List<RawConfigEntry>();
        if (YamlStructureGuard.Check(text, state) is not { } aliases)
        {
            return entries;
        }

        var stream = new YamlStream();
        var parser = new Parser(new StringReader(text));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException ex)
        {
            state.Error(ToLine(ex.Start), KeyAt(text, ToLine(ex.Start)), "YAML syntax error: " + YamlReason(ex));
            return entries;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this on some malformed input (an unclosed flow sequence); the last event read
            // is where the parser gave up.
            var line = parser.Current is { } current ? ToLine(current.End) : 1;
            state.Error(line, KeyAt(text, line), "YAML syntax error: unexpected content (an unclosed [ or { ?)");
            return entries;
        }

        if (stream.Documents.Count == 0)
        {
            return entries;
        }

        if (stream.Documents.Count > 1)
        {
            state.Error(ToLine(stream.Documents[1].RootNode.Start), FileKey, "the config must be a single YAML document");
        }

        var root = stream.Documents[0].RootNode;
        if (root is YamlScalarNode { Value: null or "" })
        {
            return entries;
        }

        if (root is not YamlMappingNode mapping)
        {
            state.Error(ToLine(root.Start), FileKey, "the config must be a YAML mapping of key: value pairs");
            return entries;
        }

        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key })
            {
                state.Error(ToLine(keyNode.Start), FileKey, "config keys must be plain names");
                continue;
            }

            var line = ToLine(keyNode.Start);

            // A value or item written as an alias is reported on the alias's line (YamlDotNet's node is the anchor's).
            var valueAlias = aliases.ValueLine(keyNode.Start.Index);
            switch (valueNode)
            {
                case YamlScalarNode scalar:
                    entries.Add(new RawConfigEntry(key, line, IsYamlNull(scalar) ? string.Empty : scalar.Value ?? string.Empty, null, valueAlias ?? ToLine(scalar.Start)));
                    break;
                case YamlSequenceNode sequence:
                    var items = new List<(string, int)>();
                    if (sequence.Children.Count > MaxListItems)
                    {
                        state.Error(line, key, $"the list has {sequence.Children.Count} items; at most {MaxListItems} are allowed");
                        break;
                    }

                    for (var i = 0; i < sequence.Children.Count; i++)
                    {
                        var item = sequence.Children[i];
                        var itemLine = aliases.ItemLine(keyNode.Start.Index, i) ?? valueAlias ?? ToLine(item.Start);
                        if (item is YamlScalarNode { Value: { } itemText })
                        {
                            items.Add((itemText, itemLine));
                        }
                        else
                        {
                            state.Error(itemLine, key, $"{key}: list items must be plain values");
                        }
                    }

                    entries.Add(new RawConfigEntry(key, line, null, items));
                    break;
                default:
                    state.Error(line, key, $"{key}: expected a value or a list, got a mapping");
                    break;
            }
        }

        return entries;
    }

    /// <summary>The top-level key whose block holds <paramref name="line"/> (the last unindented "key:" at or above it), else <see cref="FileKey"/>.</summary>
    public static string KeyAt(string text, int line)
    {
        string key = FileKey;
        var number = 0;
        foreach (var raw in text.AsSpan().EnumerateLines())
        {
            if (++number > line)
            {
                break;
            }

            if (raw.Length > 0 && !char.IsWhiteSpace(raw[0]) && YamlKeyLine().IsMatch(raw))
            {
                var colon = raw.IndexOf(':');
                key = raw[..colon].Trim().Trim('"').Trim('\'').ToString();
            }
        }

        return key;
    }

    private static bool IsYamlNull(YamlScalarNode scalar) =>
        scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";

    // YamlDotNet marks are 1-based already.
    public static int ToLine(Mark mark) => (int)mark.Line;

    private static string YamlReason(YamlException ex)
    {
        // YamlDotNet prefixes "(Line: 3, Col: 1, Idx: 20) - (Line: 3, Col: 2, Idx: 21): "; the line is reported separately.
        var message = ex.Message;
        var marker = message.IndexOf("): ", StringComparison.Ordinal);
        message = message.StartsWith("(Line", StringComparison.Ordinal) && marker > 0 ? message[(marker + 3)..] : message;
        return ex.InnerException is { } inner && !string.IsNullOrEmpty(inner.Message) && !message.Contains(inner.Message, StringComparison.Ordinal)
            ? $"{message} ({inner.Message})"
            : message;
    }

    /// <summary>A top-level YAML "key:" line (also what tells YAML from the key=value form).</summary>
    [GeneratedRegex(@"^[""']?[A-Za-z_][A-Za-z0-9_-]*[""']?\s*:(\s|$)")]
    internal static partial Regex YamlKeyLine();
}
