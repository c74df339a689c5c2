using System.Diagnostics;
using System.Globalization;
using VmProbe.Config;
using VmProbe.Perf;
using VmProbe.Procfs;
using VmProbe.Tests.Infrastructure;
using Xunit;
using static VmProbe.Tests.Perf.PerfTestSupport;

namespace VmProbe.Tests.Perf;

/// <summary>
/// Cgroup attribution's target directory: the v2 directory, else the v1 perf_event one, never a v1 cpu directory.
/// The real test mounts a private v1 perf_event hierarchy, as the C++ vmprobe's hosts have.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public class PerfCgroupV1Tests
{
    private static readonly Guid VmUuid = Guid.Parse("6f1c2d3e-0000-4000-8000-00000000b001");

    [Theory]
    [InlineData("/sys/fs/cgroup/unified/machine/qemu-1-a.libvirt-qemu", "/sys/fs/cgroup/perf_event/machine/qemu-1-a.libvirt-qemu", "/sys/fs/cgroup/unified/machine/qemu-1-a.libvirt-qemu")]
    [InlineData(null, "/sys/fs/cgroup/perf_event/machine/qemu-1-a.libvirt-qemu", "/sys/fs/cgroup/perf_event/machine/qemu-1-a.libvirt-qemu")]
    [InlineData(null, null, null)]
    public void PerfCgroupDirectory_IsV2ElseV1PerfEvent(string? unified, string? perfEvent, string? expected)
    {
        var process = new QemuProcess
        {
            Pid = 42,
            UnifiedCgroupDirectory = unified,
            PerfEventCgroupDirectory = perfEvent,
            CpuCgroupDirectory = "/sys/fs/cgroup/cpu/machine/qemu-1-a.libvirt-qemu",
        };

        var domain = process.ToVmDomain("a");

        Assert.Equal(expected, domain.PerfCgroupPath);
        Assert.Equal(unified ?? "/sys/fs/cgroup/cpu/machine/qemu-1-a.libvirt-qemu", domain.CgroupPath);
    }

    [SkippableFact]
    public void CpuDirectoryOnly_FallsBackToThreadAttribution_WithOneLogLine()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        var log = new RecordingLog();
        var domain = new VmDomain { Name = "v1-cpu-only", Uuid = VmUuid, Pid = Environment.ProcessId, CgroupPath = "/sys/fs/cgroup/cpu" };
        var other = new VmDomain { Name = "v1-cpu-only-2", Uuid = Guid.NewGuid(), Pid = Environment.ProcessId, CgroupPath = "/sys/fs/cgroup/cpu" };
        using var source = new PerfMetricsSource(PerfMetricsSourceTests.Config(PerfAttribution.Cgroup, "task-clock"), log);
        source.Prepare(PerfMetricsSourceTests.Context(domain, other));
        PerfMetricsSourceTests.Collect(source, domain, other);
        PerfMetricsSourceTests.Collect(source, domain, other);

        Assert.Equal(2, source.DomainCount);
        var warning = Assert.Single(log.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("per thread", StringComparison.Ordinal));
        Assert.Contains("v1 perf_event", warning.Message, StringComparison.Ordinal);
        Assert.Contains("/sys/fs/cgroup/cpu", warning.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void V1PerfEventCgroup_IsFoundByTheInspector_AndCountsTaskClockOfAProcessInIt()
    {
        Skip.If(WhyPerfUnavailable is not null, WhyPerfUnavailable);
        Skip.IfNot(Requirements.IsRoot, "mounting a cgroup hierarchy needs root");

        // Mounting perf_event as v1 takes the controller away from cgroup v2 host-wide while mounted: v2 cgroup perf
        // counting gets ENOENT meanwhile. It runs whenever root can mount (VMPROBE_TEST_MOUNT_CGROUP_V1=0 skips it) and
        // unmounts in the end.
        Skip.If(Environment.GetEnvironmentVariable(MountOptIn) == "0", $"{MountOptIn}=0");
        Skip.IfNot(PerfEventHierarchyId() == 0, "the perf_event controller is already bound to a v1 hierarchy");

        // A private cgroup root holding a v1 perf_event mount: the inspector resolves /proc/PID/cgroup against it.
        var cgroupRoot = Directory.CreateTempSubdirectory("vmprobe-cgv1-").FullName;
        var mountPoint = Path.Combine(cgroupRoot, "perf_event");
        Directory.CreateDirectory(mountPoint);

        // A hybrid host: the unified (v2) hierarchy beside the v1 perf_event one.
        if (Directory.Exists("/sys/fs/cgroup/unified"))
        {
            Directory.CreateSymbolicLink(Path.Combine(cgroupRoot, "unified"), "/sys/fs/cgroup/unified");
        }
        else if (File.Exists("/sys/fs/cgroup/cgroup.controllers"))
        {
            Directory.CreateSymbolicLink(Path.Combine(cgroupRoot, "unified"), "/sys/fs/cgroup");
        }

        var mount = Requirements.Run("mount", $"-t cgroup -o perf_event none {mountPoint}");
        if (mount.ExitCode != 0)
        {
            Directory.Delete(cgroupRoot, recursive: true);
            Skip.If(true, $"the kernel refuses a v1 perf_event hierarchy (controller bound to cgroup v2?): {mount.Stderr.Trim()}");
        }

        var group = Path.Combine(mountPoint, "machine", "qemu-7-v1vm.libvirt-qemu");
        Process? burner = null;
        Process? outsider = null;
        try
        {
            Directory.CreateDirectory(group);
            burner = Process.Start(new ProcessStartInfo("/bin/sh", "-c \"while :; do :; done\"") { UseShellExecute = false })!;
            File.WriteAllText(Path.Combine(group, "cgroup.procs"), burner.Id.ToString(CultureInfo.InvariantCulture));

            using var inspector = new QemuProcessInspector(cgroupRoot: cgroupRoot);
            var process = inspector.Inspect(burner.Id)!;
            Assert.Equal(group, process.PerfEventCgroupDirectory);
            var domain = process.ToVmDomain("v1vm", VmUuid);
            Assert.Equal(group, domain.PerfCgroupPath);

            Assert.Equal(CgroupLayout.Hybrid, inspector.Cgroups.Layout);

            // A QEMU outside any VM cgroup is in the v1 hierarchy's root: never counted there (the whole host), per thread instead.
            outsider = Process.Start(new ProcessStartInfo("/bin/sh", "-c \"sleep 60\"") { UseShellExecute = false })!;
            var outsiderDomain = inspector.Inspect(outsider.Id)!.ToVmDomain("outsider", Guid.NewGuid());
            Assert.Null(outsiderDomain.PerfCgroupPath);

            var log = new RecordingLog();
            using (var mixed = new PerfMetricsSource(PerfMetricsSourceTests.Config(PerfAttribution.Cgroup, "task-clock"), log))
            {
                mixed.Prepare(PerfMetricsSourceTests.Context(domain, outsiderDomain));
                PerfMetricsSourceTests.Collect(mixed, domain, outsiderDomain);
                Assert.Equal(2, mixed.DomainCount);
                Assert.Single(log.Lines, l => l.Message.Contains("per thread", StringComparison.Ordinal));
            }

            using var source = new PerfMetricsSource(PerfMetricsSourceTests.Config(PerfAttribution.Cgroup, "task-clock"), new RecordingLog());
            source.Prepare(PerfMetricsSourceTests.Context(domain));
            var first = PerfMetricsSourceTests.Collect(source, domain);
            Thread.Sleep(200);
            var second = PerfMetricsSourceTests.Collect(source, domain);
            var uuid = VmUuid.ToString("D");
            var before = PerfMetricsSourceTests.Value(first, "domain_perf_events_total", "v1vm", uuid, "task_clock");
            var after = PerfMetricsSourceTests.Value(second, "domain_perf_events_total", "v1vm", uuid, "task_clock");
            Assert.Equal(1, source.DomainCount);
            Assert.True(after > before + 10_000_000, $"v1 perf_event cgroup task_clock {before} -> {after}");
        }
        finally
        {
            if (outsider is not null)
            {
                outsider.Kill();
                outsider.WaitForExit();
                outsider.Dispose();
            }

            if (burner is not null)
            {
                burner.Kill();
                burner.WaitForExit();
                burner.Dispose();
            }

            // A cgroup can be removed once its last task is reaped; children first, then the parent.
            foreach (var dir in new[] { group, Path.GetDirectoryName(group)! })
            {
                for (var i = 0; i < 50 && Directory.Exists(dir); i++)
                {
                    try
                    {
                        Directory.Delete(dir);
                    }
                    catch (IOException)
                    {
                        Thread.Sleep(20);
                    }
                }
            }

            Requirements.Run("umount", mountPoint);
            Directory.Delete(cgroupRoot, recursive: true);
        }

        // Best effort. A umount dissolves the hierarchy (perf_event goes back to cgroup v2) only when no child cgroup is left, and a
        // removed child lingers in the kernel for a moment: mount and unmount the now empty hierarchy again until it goes.
        for (var i = 0; i < 20 && PerfEventHierarchyId() != 0; i++)
        {
            Thread.Sleep(100);
            var again = Directory.CreateTempSubdirectory("vmprobe-cgv1-").FullName;
            if (Requirements.Run("mount", $"-t cgroup -o perf_event none {again}").ExitCode == 0)
            {
                Requirements.Run("umount", again);
            }

            Directory.Delete(again);
        }

        // Seen here: the hierarchy may stay bound until this test process exits (a reference is still held in-process),
        // which is why the test is opt-in and meant to run alone.
    }

    private const string MountOptIn = "VMPROBE_TEST_MOUNT_CGROUP_V1";

    /// <summary>The hierarchy id of the perf_event controller in /proc/cgroups (0: cgroup v2 or unmounted).</summary>
    private static int PerfEventHierarchyId()
    {
        foreach (var line in File.ReadLines("/proc/cgroups"))
        {
            var fields = line.Split('\t');
            if (fields.Length >= 2 && fields[0] == "perf_event")
            {
                return int.Parse(fields[1], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
