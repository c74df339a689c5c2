using System.Globalization;
using System.Text;
using VmProbe.Libvirt;
using VmProbe.Procfs;
using VmProbe.Tests.Procfs;
using Xunit;

namespace VmProbe.Tests.Libvirt;

/// <summary>libvirt's QEMU status file (/run/libvirt/qemu/NAME.xml) as the vCPU-to-thread cross-check.</summary>
public class DomainStatusXmlTests
{
    private static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Libvirt", "status-tcg-2vcpu.xml");

    private static DomainStatusXml ParseText(string xml) => DomainStatusXml.Parse(new MemoryStream(Encoding.UTF8.GetBytes(xml)), "/run/libvirt/qemu/x.xml");

    [Fact]
    public void CapturedStatusFile_GivesTheQemuPidAndTheVcpuThreads()
    {
        var status = DomainStatusXml.TryRead(Fixture)!;

        Assert.Equal(20232, status.Pid);
        Assert.Equal(new[] { new VmVcpu(0, 20239), new VmVcpu(1, 20240) }, status.Vcpus);
    }

    [Fact]
    public void VcpusAreSortedAndOfflineVcpusWithoutThreadAreLeftOut()
    {
        var status = ParseText("<domstatus pid='10'><vcpus><vcpu id='2' pid='13'/><vcpu id='1'/><vcpu id='0' pid='11'/></vcpus></domstatus>");

        Assert.Equal(new[] { new VmVcpu(0, 11), new VmVcpu(2, 13) }, status.Vcpus);
    }

    [Fact]
    public void NoVcpusElement_GivesNone_AndTheDomainDefinitionsVcpuCountIsNotTakenForOne()
    {
        var status = ParseText("<domstatus pid='10'><domain type='kvm'><vcpu placement='static'>4</vcpu></domain></domstatus>");

        Assert.Equal(10, status.Pid);
        Assert.Empty(status.Vcpus);
    }

    [Theory]
    [InlineData("<!DOCTYPE domstatus [<!ENTITY x 'y'>]><domstatus pid='1'/>", "not well-formed XML")]
    [InlineData("<domain pid='1'/>", "root element is <domain>, not <domstatus>")]
    [InlineData("<domstatus pid='1'><vcpus><vcpu id='0' pid='-5'/></vcpus></domstatus>", "<vcpu pid='-5'> is not a non-negative integer")]
    [InlineData("<domstatus pid='1'><vcpus><vcpu pid='5'/></vcpus></domstatus>", "<vcpu> without id")]
    [InlineData("<domstatus pid='1'><vcpus>", "not well-formed XML")]
    public void BadStatusFile_IsAProcfsExceptionNamingTheFileAndTheProblem(string xml, string problem)
    {
        var error = Assert.Throws<ProcfsException>(() => ParseText(xml));

        Assert.Contains("/run/libvirt/qemu/x.xml", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.Equal("procfs_parse,InvalidData", error.ErrorId);
    }

    [Fact]
    public void MissingFile_IsNull_AndAnOversizedFileIsRefused()
    {
        var dir = Directory.CreateTempSubdirectory("vmprobe-status-").FullName;
        try
        {
            Assert.Null(DomainStatusXml.TryRead(Path.Combine(dir, "gone.xml")));

            var big = Path.Combine(dir, "big.xml");
            using (var file = File.Create(big))
            {
                file.SetLength(DomainStatusXml.MaxBytes + 1L);
            }

            var error = Assert.Throws<ProcfsException>(() => DomainStatusXml.TryRead(big));
            Assert.Contains(big, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ChooseVcpus_StatusWins_NamesFillIn_DisagreementIsReported()
    {
        var byName = new[] { new VmVcpu(0, 100), new VmVcpu(1, 101) };
        var same = new[] { new VmVcpu(0, 100), new VmVcpu(1, 101) };
        var other = new[] { new VmVcpu(0, 100), new VmVcpu(1, 105) };

        Assert.Same(same, LibvirtDomainDiscovery.ChooseVcpus(byName, same, out var agree));
        Assert.False(agree);
        Assert.Same(other, LibvirtDomainDiscovery.ChooseVcpus(byName, other, out var differ));
        Assert.True(differ);
        Assert.Same(other, LibvirtDomainDiscovery.ChooseVcpus(Array.Empty<VmVcpu>(), other, out var namesMissing));
        Assert.False(namesMissing);
        Assert.Same(byName, LibvirtDomainDiscovery.ChooseVcpus(byName, Array.Empty<VmVcpu>(), out var statusEmpty));
        Assert.False(statusEmpty);
    }

    /// <summary>
    /// The test process stands in for a QEMU started without debug-threads=on: none of its threads is named
    /// <c>CPU N/KVM</c>, so the vCPU threads come from the status file beside the pid file, which names two of its real threads.
    /// </summary>
    [SkippableFact]
    public void Discovery_ThreadsWithoutNames_TakeTheVcpusFromTheStatusFile_ButNotFromAStaleOne()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        var pid = Environment.ProcessId;
        var tids = Directory.EnumerateDirectories($"/proc/{pid}/task").Select(d => int.Parse(Path.GetFileName(d), CultureInfo.InvariantCulture)).Take(2).ToArray();
        Skip.If(tids.Length < 2, "the test process has fewer than two threads");
        var pidDir = Directory.CreateTempSubdirectory("vmprobe-status-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(pidDir, "test.pid"), pid.ToString(CultureInfo.InvariantCulture));
            var statusPath = Path.Combine(pidDir, "test.xml");
            File.WriteAllText(statusPath, $"<domstatus state='running' pid='{pid}'><vcpus><vcpu id='0' pid='{tids[0]}'/><vcpu id='1' pid='{tids[1]}'/></vcpus></domstatus>");
            var log = new DomainProcfsSourceTests.ListLog();
            using (var discovery = new LibvirtDomainDiscovery(new LibvirtSession(LibvirtTestDriver.DefaultUri, TimeSpan.FromSeconds(20), NullProbeLog.Instance), ownsSession: true, pidDir))
            {
                var domain = Assert.Single(discovery.Discover(log, default));
                Assert.Equal(new[] { new VmVcpu(0, tids[0]), new VmVcpu(1, tids[1]) }, domain.Vcpus);
                discovery.Discover(log, default);
                Assert.Single(log.Lines, l => l.StartsWith("Debug:", StringComparison.Ordinal) && l.Contains("debug-threads=on", StringComparison.Ordinal));
            }

            // A status file left from an earlier QEMU (another pid) is not this process's.
            File.WriteAllText(statusPath, $"<domstatus pid='{pid + 100000}'><vcpus><vcpu id='0' pid='{tids[0]}'/></vcpus></domstatus>");
            using (var discovery = new LibvirtDomainDiscovery(new LibvirtSession(LibvirtTestDriver.DefaultUri, TimeSpan.FromSeconds(20), NullProbeLog.Instance), ownsSession: true, pidDir))
            {
                Assert.Empty(Assert.Single(discovery.Discover(NullProbeLog.Instance, default)).Vcpus);
            }
        }
        finally
        {
            Directory.Delete(pidDir, recursive: true);
        }
    }
}
