
using VmProbe.Composition;

namespace VmProbe.Commands;

/// <summary>
/// Turns the references -Domain may hold (name and/or UUID only, Uri null) into live domains, listing the
/// domains at most once per command.
/// </summary>
internal sealed class DomainResolver
{
    private readonly string _uri;
    private readonly IProbeLog _log;
    private IReadOnlyList<VmDomain>? _all;

    public DomainResolver(string uri, IProbeLog log)
    {
        _uri = uri;
        _log = log;
    }

    /// <summary>Running domains at the URI (listed on first use).</summary>
    public IReadOnlyList<VmDomain> All => _all ??= DomainListing.List(_uri, includeInactive: false, _log);

    public static bool IsReference(VmDomain domain) => domain.Uri is null;

    /// <summary>The live domain a reference names; the domain itself when it is not a reference.</summary>
    public VmDomain Resolve(VmDomain domain)
    {
        if (!IsReference(domain))
        {
            return domain;
        }

        var match = domain.Uuid != Guid.Empty
            ? All.FirstOrDefault(d => d.Uuid == domain.Uuid)
            : All.FirstOrDefault(d => string.Equals(d.Name, domain.Name, StringComparison.Ordinal));
        if (match is null)
        {
            var what = domain.Uuid != Guid.Empty ? $"UUID {domain.Uuid}" : $"name '{domain.Name}'";
            throw new VmProbeException($"No running domain with {what} at {_uri}.", "domain,not_found", ProbeErrorKind.NotFound)
            {
                RecommendedAction = "List the running domains with Get-VmDomain.",
            };
        }

        return match;
    }
}
