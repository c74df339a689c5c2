using System.Diagnostics;
using VmProbe.Config;
using VmProbe.Libvirt;
using VmProbe.Procfs;
using VmProbe.Prometheus;
using VmProbe.Tests.Infrastructure;
using VmProbe.Tests.Libvirt;
using VmProbe.Tests.Procfs;
using Xunit;
using VmProbe.Composition;

namespace VmProbe.Tests.Domains;

/// <summary>Discovery with libvirt's test:/// driver, an unreachable URI, and pid files written by the test.</summary>
public class DomainDiscoveryTests
{
    /// <summary>The uuid of the test:///default driver's domain <c>test</c>.</summary>
    private static readonly Guid TestDomainUuid = Guid.Parse("6695eb01-f6a4-8304-79aa-97f2502e193f");

    private const string BrokenUri = "qemu+tcp://127.0.0.1:1/system";

    private static LibvirtSession Session(string uri, IProbeLog? log = null) => new(uri, TimeSpan.FromSeconds(20), log ?? NullProbeLog.Instance);

    [SkippableFact]
    public void Libvirt_DomainWithoutPidFile_ListedWithoutProcfsData()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        var pidDir = Directory.CreateTempSubdirectory("vmprobe-pids-").FullName;
        try
        {
            using var discovery = new LibvirtDomainDiscovery(Session(LibvirtTestDriver.DefaultUri), ownsSession: true, pidDir);
            var log = new DomainProcfsSourceTests.ListLog();
            var domain = Assert.Single(discovery.Discover(log, default));
            Assert.Equal("test", domain.Name);
            Assert.Equal(TestDomainUuid, domain.Uuid);
            Assert.Equal(VmDomainState.Running, domain.State);
            Assert.Equal(LibvirtTestDriver.DefaultUri, domain.Uri);
            Assert.Equal(0, domain.Pid);
            Assert.Empty(domain.Vcpus);
            Assert.Contains(log.Lines, l => l.StartsWith("Debug:", StringComparison.Ordinal) && l.Contains("'test'", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(pidDir, recursive: true);
        }
    }

    [SkippableFact]
    public void Libvirt_PidFileWithoutNewline_FillsVcpusAndCgroup_FromTheProcess()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        var pidDir = Directory.CreateTempSubdirectory("vmprobe-pids-").FullName;
        try
        {
            // The test process stands in for QEMU: its threads are listed and its cgroup resolved.
            File.WriteAllText(Path.Combine(pidDir, "test.pid"), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var discovery = new LibvirtDomainDiscovery(Session(LibvirtTestDriver.DefaultUri), ownsSession: true, pidDir);
            var domain = Assert.Single(discovery.Discover(NullProbeLog.Instance, default));
            Assert.Equal(Environment.ProcessId, domain.Pid);
            using var inspector = new QemuProcessInspector();
            Assert.Equal(inspector.Inspect(Environment.ProcessId)!.CgroupDirectory, domain.CgroupPath);

            using var source = new DomainProcfsSource();
            var set = DomainProcfsSourceTests.Collect(source, new[] { domain });
            Assert.True(DomainProcfsSourceTests.Value(set, "domain_threads", "test", TestDomainUuid.ToString()) > 1);
        }
        finally
        {
            Directory.Delete(pidDir, recursive: true);
        }
    }

    [SkippableFact]
    public void Libvirt_StalePidFileOfAnotherVm_PidNotUsed()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        var bash = Requirements.FindCommand("bash");
        Skip.If(bash is null, "no bash executable");
        var pidDir = Directory.CreateTempSubdirectory("vmprobe-pids-").FullName;
        var exeDir = Directory.CreateTempSubdirectory("vmprobe-qemu-").FullName;
        var exe = Path.Combine(exeDir, "qemu-system-x86_64");
        File.Copy(bash!, exe);
        var psi = new ProcessStartInfo(exe) { UseShellExecute = false };
        // bash under a QEMU name: runs the script and ignores the QEMU-like arguments after it (they are $0, $1, ...).
        foreach (var a in new[] { "-c", "sleep 30; :", "qemu", "-name", "guest=other", "-uuid", Guid.NewGuid().ToString() })
        {
            psi.ArgumentList.Add(a);
        }

        using var other = Process.Start(psi)!;
        try
        {
            File.WriteAllText(Path.Combine(pidDir, "test.pid"), other.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using (var inspector = new QemuProcessInspector())
            {
                Assert.Equal("other", inspector.Inspect(other.Id)?.CommandLine.Name);
            }

            using var discovery = new LibvirtDomainDiscovery(Session(LibvirtTestDriver.DefaultUri), ownsSession: true, pidDir);
            var log = new DomainProcfsSourceTests.ListLog();
            var domain = Assert.Single(discovery.Discover(log, default));
            Assert.Equal(0, domain.Pid);
            Assert.Contains(log.Lines, l => l.Contains("stale pid file", StringComparison.Ordinal));
        }
        finally
        {
            other.Kill();
            other.WaitForExit();
            Directory.Delete(pidDir, recursive: true);
            Directory.Delete(exeDir, recursive: true);
        }
    }

    [SkippableFact]
    public void Libvirt_UnreachableUri_ThrowsTypedError()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        using var discovery = new LibvirtDomainDiscovery(Session(BrokenUri), ownsSession: true);
        var error = Assert.ThrowsAny<VmProbeException>(() => discovery.Discover(NullProbeLog.Instance, default));
        Assert.Equal(ProbeErrorKind.ConnectionError, error.Kind);
    }

    /// <summary>
    /// auto: the node file of a test:/// URI is missing at first (libvirt fails), so domains come from the /proc scan
    /// of the fixture tree; once the file exists libvirt answers. Each switch is logged once.
    /// </summary>
    [SkippableFact]
    public void Auto_FallsBackToProcessScan_AndSwitchesBack_LoggingEachSwitchOnce()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        var dir = Directory.CreateTempSubdirectory("vmprobe-node-").FullName;
        var node = Path.Combine(dir, "node.xml");
        try
        {
            var log = new DomainProcfsSourceTests.ListLog();
            using var auto = new AutoDomainDiscovery(
                new LibvirtDomainDiscovery(Session("test://" + node, log), ownsSession: true, dir),
                new ProcessDomainDiscovery(ProcfsParserTests.KvmHost, ProcfsFixtures.CgroupTree));
            Assert.Equal(new[] { "web-01", "db.prod \"eu\",main" }, auto.Discover(log, default).Select(d => d.Name));
            Assert.Equal(new[] { "web-01", "db.prod \"eu\",main" }, auto.Discover(log, default).Select(d => d.Name));
            Assert.IsType<ProcessDomainDiscovery>(auto.Current);
            Assert.Single(log.Lines, l => l.StartsWith("Warning: domain discovery:", StringComparison.Ordinal));

            File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "Libvirt", "node.xml"), node);
            var fromLibvirt = auto.Discover(log, default);
            Assert.IsType<LibvirtDomainDiscovery>(auto.Current);
            Assert.NotEmpty(fromLibvirt);
            Assert.All(fromLibvirt, d => Assert.Equal("test://" + node, d.Uri));
            auto.Discover(log, default);
            Assert.Single(log.Lines, l => l.StartsWith("Info: domain discovery:", StringComparison.Ordinal));
            Assert.Single(log.Lines, l => l.StartsWith("Warning: domain discovery:", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The warm-up of <c>discovery: auto</c> is that of the discovery that found the last cycle's domains.</summary>
    [Fact]
    public void Auto_WarmsUpTheDiscoveryInUse()
    {
        var dir = Directory.CreateTempSubdirectory("vmprobe-node-").FullName;
        var root = DomainProcfsSourceTests.CopyKvmHostProcesses();
        try
        {
            var unnamed = ProcfsCostTests.AddThread(root, 4242, 4270, "qemu-kvm");
            var log = new DomainProcfsSourceTests.ListLog();
            var scan = new ProcessDomainDiscovery(root, ProcfsFixtures.CgroupTree) { NamingWaitMs = 0 };
            using var auto = new AutoDomainDiscovery(
                new LibvirtDomainDiscovery(Session("test://" + Path.Combine(dir, "node.xml"), log), ownsSession: true, dir), scan);
            auto.WarmUp(); // no discovery in use yet
            var vcpus = auto.Discover(log, default)[0].Vcpus.Count;
            Assert.Same(scan, auto.Current);

            ProcfsCostTests.RenameThread(unnamed, $"CPU {vcpus}/KVM");
            auto.WarmUp();
            Assert.Equal(2, scan.NameChecks);
            Assert.Contains(auto.Discover(log, default)[0].Vcpus, v => v.ThreadId == 4270);
            Assert.Equal(2, scan.NameChecks);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// <c>discovery: auto</c> hands the cycle's shared state to its fallback: with libvirt failing, the process scan's
    /// inspection leaves its CPU hints where the perf source looks, as under <c>discovery: process</c>.
    /// </summary>
    [Fact]
    public void Auto_SharesTheCyclesStateWithItsFallback()
    {
        var dir = Directory.CreateTempSubdirectory("vmprobe-node-").FullName;
        try
        {
            var log = new DomainProcfsSourceTests.ListLog();
            var scan = new ProcessDomainDiscovery(ProcfsParserTests.KvmHost, ProcfsFixtures.CgroupTree);
            using var auto = new AutoDomainDiscovery(
                new LibvirtDomainDiscovery(Session("test://" + Path.Combine(dir, "node.xml"), log), ownsSession: true, dir), scan);
            var cycle = new ProbeCycle(auto, Array.Empty<IMetricSource>(), log, 200);
            Assert.NotNull(auto.Shared);
            Assert.Same(auto.Shared, scan.Shared);

            cycle.Collect(default);

            Assert.Same(scan, auto.Current);
            Assert.True(auto.Shared!.Get<ThreadCpuHints>().TryGet(4251, out var cpu) && cpu == 2, "the fallback left no hint for vCPU 0");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// The default config (auto) with libvirt unreachable: one --once-like cycle through the composition still writes the
    /// host and probe series, counts the libvirt failure once per cycle, and logs it once across cycles.
    /// </summary>
    [SkippableFact]
    public void Composition_BrokenLibvirtUrl_HostMetricsWritten_ErrorCountedOncePerCycle_LoggedOnce()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        Skip.IfNot(Promtool.IsAvailable, Promtool.UnavailableReason);
        var dir = Directory.CreateTempSubdirectory("vmprobe-out-").FullName;
        try
        {
            var endpoint = Path.Combine(dir, "vmprobe.prom");
            var config = new ProbeConfig { Url = BrokenUri, Endpoint = endpoint, DelayMs = 1000 };
            var log = new DomainProcfsSourceTests.ListLog();
            using var composition = ProbeComposition.Create(config, log);
            Assert.Equal(ProbeComposition.DescribeSources(config), composition.Sources.Select(s => s.Name));
            Assert.Contains("libvirt", ProbeComposition.DescribeSources(config));
            var cycle = composition.CreateCycle();
            var loop = new ProbeLoop(cycle, composition.Sink, log, config.DelayMs);
            loop.RunOnceAsync(default).GetAwaiter().GetResult();

            var text = File.ReadAllText(endpoint);
            var series = ExpositionText.Parse(text);
            Assert.True(ExpositionText.ValueOf(series, "vmprobe_host_cpu_seconds_total", ("mode", "idle")) > 0);
            Assert.Equal(1, ExpositionText.ValueOf(series, "vmprobe_probe_errors_total", ("source", "libvirt")));
            // The discovery fell back to the /proc scan: counted under its own name, as the libvirt source's failure is under libvirt.
            Assert.Equal(1, ExpositionText.ValueOf(series, "vmprobe_probe_errors_total", ("source", AutoDomainDiscovery.SourceName)));
            Assert.Equal(0, ExpositionText.ValueOf(series, "vmprobe_probe_errors_total", ("source", "procfs")));

            loop.RunOnceAsync(default).GetAwaiter().GetResult();
            series = ExpositionText.Parse(File.ReadAllText(endpoint));
            Assert.Equal(2, ExpositionText.ValueOf(series, "vmprobe_probe_errors_total", ("source", "libvirt")));
            Assert.Equal(2, ExpositionText.ValueOf(series, "vmprobe_probe_errors_total", ("source", AutoDomainDiscovery.SourceName)));
            var notDebug = log.Lines.Where(l => !l.StartsWith("Debug:", StringComparison.Ordinal)).ToList();
            Assert.Single(notDebug, l => l.Contains("source libvirt failed", StringComparison.Ordinal));
            Assert.Single(notDebug, l => l.StartsWith("Warning: domain discovery:", StringComparison.Ordinal));
            Assert.Single(notDebug, l => l.StartsWith("Warning: libvirt " + BrokenUri, StringComparison.Ordinal));
            var (exit, output) = Promtool.Check(text);
            Assert.True(exit == 0, output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
