using System.Management.Automation;
using VmProbe.Perf;

namespace VmProbe.Commands;

/// <summary>Get-VmPerfEvent: the perf event catalog with support probed on this host, like <c>perf list</c>.</summary>
[Cmdlet(VerbsCommon.Get, "VmPerfEvent")]
[OutputType(typeof(VmPerfEventInfo))]
public sealed class GetVmPerfEventCommand : VmProbeCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PerfEventNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Only events this host can open.</summary>
    [Parameter]
    public SwitchParameter Supported { get; set; }

    protected override void ProcessRecord()
    {
        IReadOnlyList<VmPerfEventInfo> events;
        try
        {
            events = PerfEventSupport.ListCatalog();
        }
        catch (Exception ex) when (ex is VmProbeException)
        {
            ThrowProbeError(ex, null);
            return;
        }

        var patterns = Name?.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToArray();
        var pascalForms = Name?.Select(PerfEventNames.ToSnakeCase).ToArray() ?? Array.Empty<string>();
        var found = new bool[Name?.Length ?? 0];
        foreach (var info in events)
        {
            if (Supported.IsPresent && !info.Supported)
            {
                continue;
            }

            if (patterns is not null)
            {
                var matched = false;
                for (var i = 0; i < patterns.Length; i++)
                {
                    if (Matches(patterns[i], info) || string.Equals(pascalForms[i], info.Name, StringComparison.OrdinalIgnoreCase))
                    {
                        found[i] = true;
                        matched = true;
                    }
                }

                if (!matched)
                {
                    continue;
                }
            }

            WriteObject(info);
        }

        for (var i = 0; i < found.Length; i++)
        {
            if (!found[i] && !WildcardPattern.ContainsWildcardCharacters(Name![i]))
            {
                WriteError(ErrorRecordFactory.Create(
                    "perf_event,unknown", ErrorCategory.ObjectNotFound,
                    Supported.IsPresent ? $"No supported perf event named '{Name[i]}'." : $"No perf event named '{Name[i]}'.",
                    Name[i], "List the events with Get-VmPerfEvent."));
            }
        }
    }

    private static bool Matches(WildcardPattern pattern, VmPerfEventInfo info) =>
        pattern.IsMatch(info.Name) || info.Aliases.Any(pattern.IsMatch);
}
