using VmProbe.Libvirt;
using VmProbe.Probe;
using VmProbe.Procfs;

namespace VmProbe.Commands.Engine;

/// <summary>Per-domain schedstat over <see cref="DomainSchedStatReader"/> (one reader per call: cmdlets run on any thread).</summary>
internal sealed class CoreSchedStatReader : ISchedStatReader
{
    public IReadOnlyList<VmSchedSample> Read(VmDomain domain, DateTimeOffset timestamp)
    {
        using var reader = new DomainSchedStatReader();
        return reader.Read(domain, timestamp);
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
