using VmProbe.Commands.Engine;
using VmProbe.Config;
using VmProbe.Perf;
using VmProbe.Probe;
using VmProbe.Tests.Infrastructure;
using VmProbe.Tests.Libvirt;
using VmProbe.Tests.Perf;
using Xunit;

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

        var domains = EngineServices.Domains.GetDomains(LibvirtTestDriver.DefaultUri, includeInactive: false, NullProbeLog.Instance);

        var test = Assert.Single(domains, d => d.Name == "test");
        Assert.Equal(LibvirtTestDriver.DefaultUri, test.Uri);
        Assert.Equal(VmDomainState.Running, test.State);
        Assert.Equal(0, test.Pid);
        Assert.Empty(test.Vcpus);
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
        var baseline = Requirements.OpenFdCount();
        var errors = new List<VmProbeException>();

        using (var counters = DomainPerfCounters.Open(new[] { PerfEventCatalog.Parse("task_clock") }, new[] { domain }, false, PerfAttribution.Thread, errors, NullProbeLog.Instance))
        {
            Assert.Empty(errors);
            Thread.Sleep(300);
            var samples = counters.Read(perVcpu: true, DateTimeOffset.Now, errors);
            var vcpu = Assert.Single(samples, s => s.Scope == VmSampleScope.Vcpu);
            Assert.Equal(vm.Uuid, vcpu.Uuid);
            Assert.True(vcpu.Value > 0);
        }

        Assert.Equal(baseline, Requirements.OpenFdCount());
    }

    private sealed class ListLog : IProbeLog
    {
        private readonly List<string> _messages;

        public ListLog(List<string> messages) => _messages = messages;

        public bool IsEnabled(LogLevel level) => true;

        public void Write(LogLevel level, string message) => _messages.Add(message);
    }
}
