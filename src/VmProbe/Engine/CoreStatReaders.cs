using System.Collections.Concurrent;
using System.Management.Automation.Runspaces;
using VmProbe.Libvirt;
using VmProbe.Procfs;

namespace VmProbe.Commands.Engine;

/// <summary>
/// The runner's procfs source through <see cref="DomainSchedStatReader"/>, one reader per runspace kept across calls
/// (like the perf sessions) so that exited threads' totals stay in the domain counters; released when the runspace closes.
/// </summary>
internal sealed class CoreSchedStatReader : ISchedStatReader
{
    private readonly ConcurrentDictionary<Guid, DomainSchedStatReader> _readers = new();

    public IReadOnlyList<VmStatSample> Read(IReadOnlyList<VmDomain> domains, DateTimeOffset timestamp, ICollection<VmProbeException> errors, IProbeLog log) =>
        ReaderOfThisRunspace().Read(domains, timestamp, errors, log);

    private DomainSchedStatReader ReaderOfThisRunspace()
    {
        var runspace = Runspace.DefaultRunspace;
        var key = runspace?.InstanceId ?? Guid.Empty;
        if (_readers.TryGetValue(key, out var reader))
        {
            return reader;
        }

        var created = new DomainSchedStatReader();
        reader = _readers.GetOrAdd(key, created);
        if (!ReferenceEquals(reader, created))
        {
            created.Dispose();
        }
        else if (runspace is not null)
        {
            runspace.StateChanged += (_, e) =>
            {
                if (e.RunspaceStateInfo.State is RunspaceState.Closed or RunspaceState.Broken && _readers.TryRemove(key, out var gone))
                {
                    gone.Dispose();
                }
            };
        }

        return reader;
    }
}

/// <summary>The runner's libvirt source, flattened (<see cref="LibvirtStatReader"/>).</summary>
internal sealed class CoreDomainStatReader : IDomainStatReader
{
    public IReadOnlyList<VmStatSample> Read(string uri, IReadOnlyList<VmDomain>? domains, DateTimeOffset timestamp, ICollection<VmProbeException> errors, IProbeLog log) =>
        LibvirtStatReader.Read(uri, domains?.Select(d => d.Uuid).ToArray(), timestamp, log);
}

/// <summary>The runner's host procfs source, flattened (<see cref="HostStatReader"/>).</summary>
internal sealed class CoreHostStatReader : IHostStatReader
{
    public IReadOnlyList<VmStatSample> Read(DateTimeOffset timestamp, ICollection<VmProbeException> errors, IProbeLog log) =>
        HostStatReader.Read(timestamp, log);
}
