using VmProbe.Procfs;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Procfs;

/// <summary>
/// The process scan's warm-up inside the first delay (<see cref="ProcessDomainDiscovery.WarmUp"/>): it makes the name
/// re-check the next discovery would have made, no other, and none that is not yet due.
/// </summary>
public class DiscoveryWarmUpTests
{
    /// <summary>
    /// The warm-up inside the first delay makes the name re-check the next discovery would have made (a thread QEMU named
    /// after the first listing is mapped), so that discovery only looks for changes; one whose threads changed since is
    /// still inspected again by it.
    /// </summary>
    [Fact]
    public void Discovery_WarmUp_MakesTheNextDiscoverysNameCheck()
    {
        var root = DomainProcfsSourceTests.CopyKvmHostProcesses();
        try
        {
            var unnamed = ProcfsCostTests.AddThread(root, 4242, 4270, "qemu-kvm");
            using var discovery = new ProcessDomainDiscovery(root, ProcfsFixtures.CgroupTree) { NamingWaitMs = 0 };
            discovery.WarmUp(); // nothing found yet: nothing to do
            Assert.Equal(0, discovery.NameChecks);
            var first = discovery.Discover(NullProbeLog.Instance, default);
            var vcpus = first[0].Vcpus.Count;
            Assert.DoesNotContain(first[0].Vcpus, v => v.ThreadId == 4270);

            ProcfsCostTests.RenameThread(unnamed, $"CPU {vcpus}/KVM");
            discovery.WarmUp();
            Assert.Equal(2, discovery.NameChecks);
            Assert.Equal(2, discovery.Inspections);
            var second = discovery.Discover(NullProbeLog.Instance, default);
            Assert.Equal(2, discovery.NameChecks); // made by the warm-up, not again
            Assert.Equal(2, discovery.Inspections);
            Assert.Contains(second[0].Vcpus, v => v.ThreadId == 4270 && v.Index == vcpus);
            discovery.WarmUp();
            Assert.Equal(2, discovery.NameChecks); // nothing pending any more

            // Threads that change after a warm-up: the discovery inspects the process again, as without one.
            ProcfsCostTests.AddThread(root, 4242, 4271, $"CPU {vcpus + 1}/KVM");
            discovery.WarmUp();
            var third = discovery.Discover(NullProbeLog.Instance, default);
            Assert.Equal(3, discovery.Inspections);
            Assert.Contains(third[0].Vcpus, v => v.ThreadId == 4271 && v.Index == vcpus + 1);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// A process inspected less than <c>NamingWaitMs</c> before the warm-up keeps its re-read for the next discovery: QEMU
    /// may not have named a new thread yet.
    /// </summary>
    [Fact]
    public void Discovery_WarmUp_LeavesAProcessInspectedJustNowToTheNextDiscovery()
    {
        var root = DomainProcfsSourceTests.CopyKvmHostProcesses();
        try
        {
            var unnamed = ProcfsCostTests.AddThread(root, 4242, 4270, "qemu-kvm");
            using var discovery = new ProcessDomainDiscovery(root, ProcfsFixtures.CgroupTree) { NamingWaitMs = 3_600_000 };
            var vcpus = discovery.Discover(NullProbeLog.Instance, default)[0].Vcpus.Count;
            discovery.WarmUp();
            Assert.Equal(0, discovery.NameChecks);

            ProcfsCostTests.RenameThread(unnamed, $"CPU {vcpus}/KVM"); // named after the warm-up
            var next = discovery.Discover(NullProbeLog.Instance, default);
            Assert.Equal(2, discovery.NameChecks);
            Assert.Contains(next[0].Vcpus, v => v.ThreadId == 4270 && v.Index == vcpus);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// The warm-up makes no names-only re-check of an untrusted QEMU: the next discovery still checks it in full, and
    /// finds it trusted once libvirt's pid file names it.
    /// </summary>
    [SkippableFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Discovery_WarmUp_LeavesAnUntrustedProcessToAFullCheck()
    {
        Skip.IfNot(Requirements.IsRoot, "the trust rule wants QEMU's executable owned by root; the test runs as " + Environment.UserName);
        var root = DomainProcfsSourceTests.CopyKvmHostProcesses();
        try
        {
            var pids = ProcfsCostTests.TrustedQemuExecutable(root, 4242);
            var pidFile = Path.Combine(pids, "web-01.pid");
            File.WriteAllText(pidFile, "999\n"); // stale: an earlier QEMU of web-01
            using var discovery = new ProcessDomainDiscovery(root, ProcfsFixtures.CgroupTree, new QemuTrust(pids)) { NamingWaitMs = 0 };
            Assert.DoesNotContain(discovery.Discover(NullProbeLog.Instance, default), d => d.Name == "web-01");

            File.WriteAllText(pidFile, "4242\n");
            discovery.WarmUp();
            Assert.Contains(discovery.Discover(NullProbeLog.Instance, default), d => d.Name == "web-01" && d.Pid == 4242);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
