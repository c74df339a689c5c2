using YamlDotNet.Core;
using static VmProbe.Config.ConfigLoader;
using static VmProbe.Config.YamlConfigReader;

namespace VmProbe.Config;

/// <summary>Checks hostile YAML structure on the parser's events, before any node is built.</summary>
internal static class YamlStructureGuard
{
    /// <summary>
    /// Walks the parser's events (no nodes are built) and refuses nesting deeper than <see cref="MaxNestingDepth"/>:
    /// YamlDotNet builds nodes recursively, and 30,000 nested [ overflow the stack, which kills the process.
    /// </summary>
    public static bool CheckNesting(string text, ConfigParseState state)
    {
        var parser = new Parser(new StringReader(text));
        var depth = 0;
        try
        {
            while (parser.MoveNext())
            {
                switch (parser.Current)
                {
                    case YamlDotNet.Core.Events.MappingStart or YamlDotNet.Core.Events.SequenceStart:
                        if (++depth > MaxNestingDepth)
                        {
                            var line = ToLine(parser.Current.Start);
                            state.Error(line, KeyAt(text, line), $"YAML nested more than {MaxNestingDepth} levels deep; a config is a mapping of values and lists");
                            return false;
                        }

                        break;
                    case YamlDotNet.Core.Events.MappingEnd or YamlDotNet.Core.Events.SequenceEnd:
                        depth--;
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is YamlException or InvalidOperationException)
        {
            // The syntax error is reported by the real load, with its line.
        }

        return true;
    }
}
