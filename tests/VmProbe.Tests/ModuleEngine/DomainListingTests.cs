using VmProbe.Config;
using VmProbe.Perf;
using VmProbe.Tests.Infrastructure;
using VmProbe.Tests.Libvirt;
using VmProbe.Tests.Perf;
using Xunit;
using VmProbe.Composition;

namespace VmProbe.Tests.ModuleEngine;

/// <summary>Get-VmDomain's service: libvirt (test:/// and a real libvirtd with QEMU/TCG) and the /proc scan.</summary>
[Collection(LibvirtdCollection.Name)]
public class DomainListingTests
{
    private readonly LibvirtdHost _host;

    public DomainListingTests(LibvirtdHost host) => _host = host;

    [SkippableFact]
    public void TestDriverDomainsComeFromLibvirtWithoutAProcess()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);

        var domains = VmProbe.Composition.DomainListing.List(LibvirtTestDriver.DefaultUri, includeInactive: false, NullProbeLog.Instance);

        var test = Assert.Single(domains, d => d.Name == "test");
        Assert.Equal(LibvirtTestDriver.DefaultUri, test.Uri);
        Assert.Equal(VmDomainState.Running, test.State);
        Assert.Equal(0, test.Pid);
        Assert.Empty(test.Vcpus);
    }

    [SkippableFact]
    public void AllListsInactiveDomainsThroughTheRunnerDiscovery()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);

        var active = VmProbe.Composition.DomainListing.List(LibvirtTestDriver.NodeUri, includeInactive: false, NullProbeLog.Instance);
        var all = VmProbe.Composition.DomainListing.List(LibvirtTestDriver.NodeUri, includeInactive: true, NullProbeLog.Instance);
        using var session = new VmProbe.Libvirt.LibvirtSession(LibvirtTestDriver.NodeUri, TimeSpan.FromSeconds(30), NullProbeLog.Instance);
        using var discovery = new VmProbe.Libvirt.LibvirtDomainDiscovery(session, includeInactive: true);
        var discovered = discovery.Discover(NullProbeLog.Instance, default);

        Assert.Equal(new[] { "db main", "web-01.prod" }, active.Select(d => d.Name).Order(StringComparer.Ordinal));
        Assert.Equal(new[] { "backup.v2-old", "db main", "o'neil \"quoted\"", "web-01.prod" }, all.Select(d => d.Name).Order(StringComparer.Ordinal));
        Assert.Equal(discovered.Select(d => (d.Name, d.Uuid, d.State, d.Pid)).OrderBy(d => d.Name, StringComparer.Ordinal),
            all.Select(d => (d.Name, d.Uuid, d.State, d.Pid)).OrderBy(d => d.Name, StringComparer.Ordinal));
        Assert.Equal(VmDomainState.Shutoff, Assert.Single(all, d => d.Name == "backup.v2-old").State);
    }

    [SkippableFact]
    public void LibvirtdDomainsCarryTheirVcpuThreadsAndCgroupAndTheScanFindsThemToo()
    {
        Skip.IfNot(_host.Available, _host.SkipReason);
        using var vm = _host.StartDomain(LibvirtdHost.UniqueName("listing"), vcpus: 2);
        var messages = new List<string>();

        var domains = DomainListing.List(LibvirtdHost.Uri, includeInactive: false, new ListLog(messages));

        var domain = Assert.Single(domains, d => d.Name == vm.Name);
        Assert.Equal(vm.Pid, domain.Pid);
        Assert.Equal(vm.Uuid, domain.Uuid);
        Assert.Equal(new[] { 0, 1 }, domain.Vcpus.Select(v => v.Index));
        Assert.All(domain.Vcpus, v => Assert.True(Directory.Exists($"/proc/{vm.Pid}/task/{v.ThreadId}"), $"vCPU thread {v.ThreadId}"));
        Assert.NotNull(domain.CgroupPath);
        Assert.True(Directory.Exists(domain.CgroupPath));
        Assert.Contains(messages, m => m.Contains("libvirt", StringComparison.Ordinal));

        var scanned = DomainListing.List(DomainListing.ProcessUri, includeInactive: false, new ListLog(messages));
        var found = Assert.Single(scanned, d => d.Pid == vm.Pid);
        Assert.Equal("process", found.Uri);
        Assert.Equal(vm.Uuid, found.Uuid);
        Assert.Equal(domain.Vcpus, found.Vcpus);
        Assert.Contains(messages, m => m.Contains("/proc scan", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void PerfSessionOfALibvirtdDomainCountsItsVcpus()
    {
        Skip.IfNot(_host.Available, _host.SkipReason);
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        using var vm = _host.StartDomain(LibvirtdHost.UniqueName("perf"), spinning: true);
        var domain = Assert.Single(DomainListing.List(LibvirtdHost.Uri, false, NullProbeLog.Instance), d => d.Name == vm.Name);
        var baseline = Requirements.OpenPerfEventFdCount();
        var errors = new List<VmProbeException>();

        using (var counters = PerfSourceSession.Open(new[] { PerfEventCatalog.Parse("task_clock") }, new[] { domain }, false, PerfAttribution.Thread, false, errors, NullProbeLog.Instance))
        {
            Assert.Empty(errors);
            Thread.Sleep(300);
            var samples = counters.Read(perVcpu: true, DateTimeOffset.Now);
            var vcpu = Assert.Single(samples, s => s.Scope == VmSampleScope.Vcpu);
            Assert.Equal(vm.Uuid, vcpu.Uuid);
            Assert.True(vcpu.Value > 0);
        }

        Assert.Equal(baseline, Requirements.OpenPerfEventFdCount());
    }

    [SkippableFact]
    public void NameResolvesAtTheGivenUriAndATestDriverDomainHasNoProcessToCount()
    {
        // What `'test' | Start-VmPerfSession -Uri test:///default` does: the name resolves at that URI (not at
        // qemu:///system), and the live domain, which has no QEMU process, is a per-domain perf error.
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        var reference = VmProbe.Commands.VmDomainTransformationAttribute.Reference("test", Guid.Empty);

        var live = new VmProbe.Commands.DomainResolver(LibvirtTestDriver.DefaultUri, NullProbeLog.Instance).Resolve(reference);
        Assert.Equal((LibvirtTestDriver.DefaultUri, "test", 0), (live.Uri, live.Name, live.Pid));
        var elsewhere = Assert.Throws<VmProbeException>(() => new VmProbe.Commands.DomainResolver(LibvirtTestDriver.NodeUri, NullProbeLog.Instance).Resolve(reference));
        Assert.Equal("domain,not_found", elsewhere.ErrorId);
        Assert.Contains(LibvirtTestDriver.NodeUri, elsewhere.Message);

        var errors = new List<VmProbeException>();
        using var counters = PerfSourceSession.Open(
            new[] { PerfEventCatalog.Parse("task_clock") }, new[] { live }, includeHost: false, PerfAttribution.Thread, perCpu: false, errors, NullProbeLog.Instance);
        var error = Assert.Single(errors);
        Assert.Equal("domain_process,not_found", error.ErrorId);
        Assert.Contains("'test'", error.Message);
        Assert.Equal(0, counters.OpenFds);
        Assert.True(counters.IsEmpty);
        Assert.Empty(counters.CountedDomains);

        // Read-VmPerfCounter reads such a session after -Duration: nothing to report, and no further error.
        Assert.Empty(counters.Read(perVcpu: false, DateTimeOffset.Now));
    }

    [Theory]
    [InlineData("qemu+ext:///system?command=/bin/true")]
    [InlineData("qemu+ssh://root@host/system")]
    public void CmdletUrisGetTheConfigsLocalOnlyRule(string uri)
    {
        // Get-VmDomain -Uri and Read-VmDomainStat -Uri: refused before any connection (qemu+ext would run the command).
        var listing = Assert.ThrowsAny<VmProbeException>(() => VmProbe.Composition.DomainListing.List(uri, includeInactive: false, NullProbeLog.Instance));
        var stats = Assert.ThrowsAny<VmProbeException>(() => VmProbe.Libvirt.LibvirtStatReader.Read(uri, null, DateTimeOffset.Now, NullProbeLog.Instance));
        Assert.Equal("libvirt_uri,refused", listing.ErrorId);
        Assert.Equal("libvirt_uri,refused", stats.ErrorId);
    }

    private sealed class ListLog : IProbeLog
    {
        private readonly List<string> _messages;

        public ListLog(List<string> messages) => _messages = messages;

        public bool IsEnabled(LogLevel level) => true;

        public void Write(LogLevel level, string message) => _messages.Add(message);
    }
}
