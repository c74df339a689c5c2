using VmProbe.Libvirt;
using VmProbe.Procfs;
using VmProbe.Tests.Infrastructure;
using VmProbe.Tests.Procfs;
using Xunit;

namespace VmProbe.Tests.Libvirt;

/// <summary>A real libvirtd's status file names the same vCPU threads as QEMU's thread names (<c>CPU N/TCG</c>).</summary>
[Collection(LibvirtdCollection.Name)]
public class LibvirtdStatusXmlTests
{
    private readonly LibvirtdHost _host;

    public LibvirtdStatusXmlTests(LibvirtdHost host) => _host = host;

    [SkippableFact]
    public void StatusFileVcpuPids_EqualTheThreadsNamedCpuN_AndDiscoveryAgrees()
    {
        Skip.IfNot(_host.Available, _host.SkipReason);
        using var domain = _host.StartDomain(LibvirtdHost.UniqueName("status"), vcpus: 2);

        var status = DomainStatusXml.TryRead(DomainStatusXml.PathFor(LibvirtDomainLister.DefaultPidDirectory, domain.Name));
        Assert.NotNull(status);
        Assert.Equal(domain.Pid, status.Pid);

        using var inspector = new QemuProcessInspector();
        var process = inspector.Inspect(domain.Pid)!;
        var byName = process.Threads.Where(t => t.Kind == QemuThreadKind.Vcpu).OrderBy(t => t.VcpuIndex).ToArray();
        Assert.Equal(2, byName.Length);
        Assert.All(byName, t => Assert.Matches(@"^CPU \d+/(TCG|KVM)$", t.Comm));
        Assert.Equal(byName.Select(t => new VmVcpu(t.VcpuIndex, t.ThreadId)), status.Vcpus);

        var log = new DomainProcfsSourceTests.ListLog();
        using var session = new LibvirtSession(LibvirtdHost.Uri, TimeSpan.FromSeconds(30), log);
        using var discovery = new LibvirtDomainDiscovery(session);
        var found = Assert.Single(discovery.Discover(log, default), d => d.Name == domain.Name);
        Assert.Equal(status.Vcpus, found.Vcpus);
        Assert.DoesNotContain(log.Lines, l => l.Contains(domain.Name, StringComparison.Ordinal) && l.Contains("differ", StringComparison.Ordinal));
    }
}
