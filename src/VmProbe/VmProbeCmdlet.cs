using System.Management.Automation;

namespace VmProbe.Commands;

/// <summary>Shared plumbing of the VmProbe cmdlets: engine log routing and ErrorRecords from engine exceptions.</summary>
public abstract class VmProbeCmdlet : PSCmdlet
{
    /// <summary>libvirt URI used when none is given.</summary>
    public const string DefaultUri = "qemu:///system";

    private CmdletProbeLog? _log;

    private protected CmdletProbeLog Log => _log ??= new CmdletProbeLog(this);

    /// <summary>Non-terminating: this item failed, the others go on.</summary>
    private protected void WriteProbeError(Exception exception, object? target) =>
        WriteError(ErrorRecordFactory.FromException(exception, target));

    private protected void WriteProbeErrors(IEnumerable<VmProbeException> errors)
    {
        foreach (var error in errors)
        {
            WriteProbeError(error, null);
        }
    }

    /// <summary>Terminating: nothing this command was asked for can proceed.</summary>
    private protected void ThrowProbeError(Exception exception, object? target) =>
        ThrowTerminatingError(ErrorRecordFactory.FromException(exception, target));

    /// <summary>Errors a cmdlet reports per item rather than letting them end the command.</summary>
    private protected static bool IsItemError(Exception exception) =>
        exception is VmProbeException or IOException or UnauthorizedAccessException or ArgumentException;

    /// <summary>
    /// For the perf cmdlets: false, with a non-terminating error saying why, when there is nothing to count (domains that
    /// could not be resolved were reported already).
    /// </summary>
    private protected bool HasPerfTarget(int domainCount, bool includeHost)
    {
        if (domainCount > 0 || includeHost)
        {
            return true;
        }

        WriteError(ErrorRecordFactory.Create(
            "perf_session,no_target", ErrorCategory.InvalidArgument, "Nothing to count: no -Domain was given (or none could be found) and -IncludeHost is not set.", null,
            "Give domains with -Domain or from the pipeline (Get-VmDomain), or add -IncludeHost."));
        return false;
    }

    /// <summary>
    /// Resolves each piped domain (a VmDomain, a name, a UUID) to its live state and adds it to <paramref name="resolved"/>
    /// once; one that cannot be resolved is a non-terminating error and the others go on.
    /// </summary>
    private protected void ResolveDomains(IEnumerable<VmDomain>? domains, DomainResolver resolver, List<VmDomain> resolved)
    {
        foreach (var domain in domains ?? Array.Empty<VmDomain>())
        {
            try
            {
                var live = resolver.Resolve(domain);
                if (!resolved.Any(d => d.Uuid == live.Uuid && d.Name == live.Name && d.Pid == live.Pid))
                {
                    resolved.Add(live);
                }
            }
            catch (Exception ex) when (IsItemError(ex))
            {
                WriteProbeError(ex, domain);
            }
        }
    }

    /// <summary>
    /// For the readers whose -Domain is optional: remembers each piped domain (resolved), or that none was given and
    /// every running domain at <paramref name="uri"/> is meant. Call from ProcessRecord.
    /// </summary>
    private protected void SelectDomains(VmDomain[]? domains, string uri, DomainSelection selection)
    {
        selection.Resolver ??= new DomainResolver(uri, Log);
        if (domains is null)
        {
            selection.All = true;
            return;
        }

        ResolveDomains(domains, selection.Resolver, selection.Domains);
    }

    /// <summary>The domains selected, listed now when all were meant; null, after a terminating error, when libvirt fails.</summary>
    private protected IReadOnlyList<VmDomain> SelectedDomains(DomainSelection selection, string uri)
    {
        try
        {
            return selection.All ? selection.Resolver!.All : selection.Domains;
        }
        catch (Exception ex) when (ex is VmProbeException)
        {
            ThrowProbeError(ex, uri);
            throw; // not reached: ThrowProbeError throws
        }
    }
}

/// <summary>What a reader's pipeline selected: the resolved domains, or all of them.</summary>
internal sealed class DomainSelection
{
    public List<VmDomain> Domains { get; } = new();

    public DomainResolver? Resolver { get; set; }

    public bool All { get; set; }
}
