using System.Management.Automation;
using VmProbe.Perf;

namespace VmProbe.Commands;

/// <summary>Resolves -Event values for the perf cmdlets, reporting each unknown name as its own error.</summary>
internal static class EventResolution
{
    /// <summary>The specs of the names that resolve, without duplicates, in the order given. Catalog failures propagate.</summary>
    public static List<PerfEventSpec> Resolve(Cmdlet cmdlet, IEnumerable<string> names)
    {
        var specs = new List<PerfEventSpec>();
        foreach (var name in names)
        {
            var spec = PerfEventNames.Resolve(name);
            if (spec is null)
            {
                cmdlet.WriteError(ErrorRecordFactory.Create(
                    "perf_event,unknown", ErrorCategory.InvalidArgument, $"Unknown perf event '{name}'.", name,
                    "List the events with Get-VmPerfEvent; names are the config's (cpu_cycles), perf's (cpu-cycles) or PascalCase (Cycles)."));
            }
            else if (!specs.Any(s => s.CanonicalName == spec.CanonicalName))
            {
                specs.Add(spec);
            }
        }

        return specs;
    }

    /// <summary>
    /// <see cref="Resolve"/>, then stops the command (terminating) when none of the names is known: the perf cmdlets
    /// have nothing to open then.
    /// </summary>
    public static List<PerfEventSpec> ResolveAtLeastOne(Cmdlet cmdlet, string[] names)
    {
        var specs = Resolve(cmdlet, names);
        if (specs.Count == 0)
        {
            cmdlet.ThrowTerminatingError(ErrorRecordFactory.Create(
                "perf_event,none_valid", ErrorCategory.InvalidArgument, $"None of the events ({string.Join(", ", names)}) is known.", names));
        }

        return specs;
    }
}
