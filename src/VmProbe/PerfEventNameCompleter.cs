using System.Collections;
using System.Management.Automation;
using VmProbe.Perf;
using System.Management.Automation.Language;

namespace VmProbe.Commands;

/// <summary>
/// Tab completion of -Event over the perf event catalog (names and aliases, supported events first) and, for a word
/// with a colon, the tracepoints of the mounted tracefs (<c>sched:sched_sw</c> completes to <c>sched:sched_switch</c>).
/// </summary>
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
        if (word.Contains(':', StringComparison.Ordinal))
        {
            foreach (var tracepoint in PerfEventSupport.ListTracepoints(word))
            {
                results.Add(new CompletionResult(tracepoint, tracepoint, CompletionResultType.ParameterValue, $"tracepoint {tracepoint}"));
            }

            return results;
        }

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
