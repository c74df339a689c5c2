using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using VmProbe.Composition;

namespace VmProbe.Commands;

/// <summary>
/// Tab completion of Get-VmDomain -Name: the domain names at the -Uri (and -All) already typed on the command line
/// (TabExpansion2's fakeBoundParameters), else at qemu:///system. Lists through VmProbe.Core's DomainListing with a short
/// timeout, and never throws: a prompt must not hang on a stuck libvirtd nor show an error.
/// </summary>
public sealed class DomainNameCompleter : IArgumentCompleter
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var uri = fakeBoundParameters?["Uri"] as string;
        if (string.IsNullOrEmpty(uri))
        {
            uri = VmProbeCmdlet.DefaultUri;
        }

        var includeInactive = fakeBoundParameters?["All"] is true or SwitchParameter { IsPresent: true };
        IReadOnlyList<VmDomain> domains;
        try
        {
            // The libvirt call timeout covers each call; the task wait also covers a connect that never answers.
            var listing = Task.Run(() => DomainListing.List(uri, includeInactive, NullProbeLog.Instance, Timeout));
            if (!listing.Wait(Timeout + Timeout))
            {
                return Array.Empty<CompletionResult>();
            }

            domains = listing.Result;
        }
        catch (Exception)
        {
            return Array.Empty<CompletionResult>();
        }

        var word = (wordToComplete ?? string.Empty).Trim('\'', '"');
        var pattern = new WildcardPattern(word + "*", WildcardOptions.IgnoreCase);
        return domains
            .Select(d => d.Name)
            .Where(name => !string.IsNullOrEmpty(name) && pattern.IsMatch(name))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.OrdinalIgnoreCase)
            .Select(name => new CompletionResult(Quote(name), name, CompletionResultType.ParameterValue, name))
            .ToArray();
    }

    // A name with spaces or characters the parser treats specially is completed in single quotes.
    private static string Quote(string name) =>
        name.All(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' or ':')
            ? name
            : "'" + name.Replace("'", "''", StringComparison.Ordinal) + "'";
}
