using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using static VmProbe.Config.ConfigLoader;
using static VmProbe.Config.YamlConfigReader;

namespace VmProbe.Config;

/// <summary>
/// Checks hostile YAML structure on the parser's events, before any node is built, and notes where the aliases of the
/// top-level values are written (YamlDotNet's nodes keep only the anchor's position).
/// </summary>
internal static class YamlStructureGuard
{
    /// <summary>
    /// Walks the parser's events (no nodes are built) and refuses nesting deeper than <see cref="MaxNestingDepth"/>:
    /// YamlDotNet builds nodes recursively, and 30,000 nested [ overflow the stack, which kills the process.
    /// </summary>
    /// <returns>The aliases' lines, or null when the nesting was refused (an error is reported).</returns>
    public static YamlAliasLines? Check(string text, ConfigParseState state)
    {
        var parser = new Parser(new StringReader(text));
        var aliases = new YamlAliasLines();
        var depth = 0;
        var documents = 0;
        var rootIsMapping = false;
        var expectKey = true;     // at depth 1 of the root mapping: the next node is a key (else its value)
        long key = -1;            // the Start.Index of the current top-level key (-1: not a plain scalar)
        var valueIsList = false;  // the current top-level value is a sequence (its items are at depth 2)
        var item = 0;
        try
        {
            while (parser.MoveNext())
            {
                var current = parser.Current!;
                if (current is DocumentStart)
                {
                    documents++;
                }

                var inRoot = documents == 1 && rootIsMapping;
                if (inRoot && depth == 1 && current is Scalar or AnchorAlias or MappingStart or SequenceStart)
                {
                    if (expectKey)
                    {
                        key = current is Scalar ? current.Start.Index : -1;
                    }
                    else
                    {
                        valueIsList = current is SequenceStart;
                        item = 0;
                        if (current is AnchorAlias && key >= 0)
                        {
                            aliases.Add(key, null, ToLine(current.Start));
                        }
                    }

                    // A collection key or value is finished when its end brings the depth back to 1.
                    if (current is Scalar or AnchorAlias)
                    {
                        expectKey = !expectKey;
                    }
                }
                else if (inRoot && depth == 2 && valueIsList && current is Scalar or AnchorAlias or MappingStart or SequenceStart)
                {
                    if (current is AnchorAlias && key >= 0)
                    {
                        aliases.Add(key, item, ToLine(current.Start));
                    }

                    item++;
                }

                switch (current)
                {
                    case MappingStart or SequenceStart:
                        if (depth == 0 && documents == 1)
                        {
                            rootIsMapping = current is MappingStart;
                        }

                        if (++depth > MaxNestingDepth)
                        {
                            var line = ToLine(current.Start);
                            state.Error(line, KeyAt(text, line), $"YAML nested more than {MaxNestingDepth} levels deep; a config is a mapping of values and lists");
                            return null;
                        }

                        break;
                    case MappingEnd or SequenceEnd:
                        if (--depth == 1 && inRoot)
                        {
                            expectKey = !expectKey;
                        }

                        break;
                }
            }
        }
        catch (Exception ex) when (ex is YamlException or InvalidOperationException)
        {
            // The syntax error is reported by the real load, with its line.
        }

        return aliases;
    }
}

/// <summary>
/// Where a top-level value, or an item of a top-level list, is written as an alias (*name): problems found in the aliased
/// node are reported there, on the line of the key that uses it, not at the anchor.
/// </summary>
internal sealed class YamlAliasLines
{
    private readonly Dictionary<(long Key, int Item), int> _lines = new();

    /// <param name="key">The key node's <c>Start.Index</c>.</param>
    /// <param name="item">The list item's index, or null for the value itself.</param>
    public void Add(long key, int? item, int line) => _lines[(key, item ?? -1)] = line;

    /// <summary>The line of the alias that is the value of the key starting at <paramref name="key"/>, if it is one.</summary>
    public int? ValueLine(long key) => _lines.TryGetValue((key, -1), out var line) ? line : null;

    /// <summary>The line of the alias that is item <paramref name="item"/> of the key's list, if it is one.</summary>
    public int? ItemLine(long key, int item) => _lines.TryGetValue((key, item), out var line) ? line : null;
}
