using System.Collections;
using System.Management.Automation;
using VmProbe.Perf;
using System.Management.Automation.Language;

namespace VmProbe.Commands;

/// <summary>Tab completion of -Event over the perf event catalog (names and aliases, supported events first).</summary>
public sealed class PerfEventNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IReadOnlyList<VmPerfEventInfo> events;
        try
        {
            events = PerfEventSupport.ListCatalog();
        }
        catch (Exception)
        {
            // Completion must never throw into the user's prompt.
            return Array.Empty<CompletionResult>();
        }

        var word = (wordToComplete ?? string.Empty).Trim('\'', '"');
        var results = new List<CompletionResult>();
        foreach (var info in events.OrderByDescending(e => e.Supported).ThenBy(e => e.Name, StringComparer.Ordinal))
        {
            var matches = info.Name.StartsWith(word, StringComparison.OrdinalIgnoreCase)
                || info.Aliases.Any(a => a.StartsWith(word, StringComparison.OrdinalIgnoreCase));
            if (matches)
            {
                var tooltip = info.Supported ? info.Description : $"{info.Description} (not supported here: {info.Reason})";
                results.Add(new CompletionResult(info.Name, info.Name, CompletionResultType.ParameterValue, string.IsNullOrEmpty(tooltip) ? info.Name : tooltip));
            }
        }

        return results;
    }
}
