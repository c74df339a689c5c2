using System.Diagnostics;
using VmProbe.Config;
using VmProbe.Kvm;
using Xunit;

namespace VmProbe.Tests.Kvm;

/// <summary>
/// The pidfd_open + pidfd_getfd path for real: a helper process holds a memfd named like a vCPU stats fd
/// (<c>/memfd:kvm-vcpu-stats:N (deleted)</c>) with a fixture blob, its file position left at the end; the source finds it
/// by its /proc/PID/fd link, duplicates it, reads it with pread and never moves the helper's file position.
/// </summary>
public sealed class KvmStatsSourceTests : IDisposable
{
    private readonly List<Process> _helpers = new();
    private readonly List<string> _files = new();

    internal static bool IsMemfdStats(string link) => link.StartsWith("/memfd:kvm-vcpu-stats:", StringComparison.Ordinal);

    internal static bool CanRun(out string reason)
    {
        reason = "needs root (pidfd_getfd) and python3 (the helper)";
        return Environment.UserName == "root" && Infrastructure.Requirements.FindCommand("python3") is not null;
    }

    /// <summary>Starts a helper holding one memfd per blob, named kvm-vcpu-stats:I; returns its pid.</summary>
    internal int StartHelper(params byte[][] blobs)
    {
        var paths = blobs.Select(b =>
        {
            var path = Path.GetTempFileName();
            File.WriteAllBytes(path, b);
            _files.Add(path);
            return path;
        }).ToList();
        const string Script =
            "import os,sys\n" +
            "for i,p in enumerate(sys.argv[1:]):\n" +
            "    fd=os.memfd_create('kvm-vcpu-stats:%d'%i,0)\n" +
            "    os.write(fd,open(p,'rb').read())\n" +
            "print('ready',flush=True)\n" +
            "sys.stdin.read()\n";
        var start = new ProcessStartInfo("python3") { RedirectStandardInput = true, RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Script);
        foreach (var path in paths)
        {
            start.ArgumentList.Add(path);
        }

        var helper = Process.Start(start)!;
        _helpers.Add(helper);
        Assert.Equal("ready", helper.StandardOutput.ReadLine());
        return helper.Id;
    }

    private static CycleContext Context(params VmDomain[] domains) =>
        new(domains, DateTimeOffset.UnixEpoch, NullProbeLog.Instance, CancellationToken.None) { ItemErrors = new List<VmProbeException>() };

    private static VmDomain Domain(int pid, string name = "vm1") =>
        new() { Name = name, Pid = pid, Uuid = Guid.Parse("0e1d2c3b-0000-0000-0000-000000000001") };

    [SkippableFact]
    public void AWarmUpOpensTheStatsFdsAndTheFirstCollectOnlyReadsThem()
    {
        Skip.IfNot(CanRun(out var why), why);
        var pid = StartHelper(KvmStatsFixture.X86Vcpu(0).Build(), KvmStatsFixture.X86Vcpu(1, seed: 3).Build());
        using var source = new KvmStatsSource(KvmStatsMode.Vm, Array.Empty<string>(), null, "/", IsMemfdStats);
        var context = Context(Domain(pid));

        ((IWarmUpSource)source).WarmUp(context);
        Assert.Equal(2, source.OpenFds);
        Assert.Equal(1, source.FdLooks);

        var metrics = new MetricSet();
        source.Collect(context, metrics);

        Assert.Equal(1, source.FdLooks); // not looked for again
        Assert.Empty(context.ItemErrors!);
        Assert.True(metrics.TryGet("domain_kvm_exits_total", out var exits));
        Assert.Equal(4000, exits.Samples.Single().Value);
    }

    [SkippableFact]
    public void DuplicatesTheHelpersStatsFdsAndReadsThemWithPread()
    {
        Skip.IfNot(CanRun(out var why), why);
        var pid = StartHelper(KvmStatsFixture.X86Vcpu(0).Build(), KvmStatsFixture.X86Vcpu(1, seed: 3).Build());
        var positionsBefore = FdPositions(pid);
        using var source = new KvmStatsSource(KvmStatsMode.Vm, Array.Empty<string>(), null, "/", IsMemfdStats);
        var metrics = new MetricSet();
        var context = Context(Domain(pid));

        source.Collect(context, metrics);
        source.Collect(context, metrics = new MetricSet());

        Assert.Empty(context.ItemErrors!);
        Assert.Equal(2, source.OpenFds);
        Assert.Equal(1, source.SumPlans); // the second cycle summed the same fds' snapshots by the first cycle's plan
        Assert.True(metrics.TryGet("domain_kvm_exits_total", out var exits));
        Assert.Equal(4000, exits.Samples.Single().Value);
        Assert.True(metrics.TryGet(KvmFamilies.StatsInfo.Name, out var info));
        Assert.Equal("binary", info.Samples.Single().LabelValues[2]);
        Assert.True(metrics.TryGet("domain_kvm_halt_wait_hist_seconds", out var hist));
        Assert.Equal(4 * 78, hist.Samples.Single().Histogram!.Count); // (1..12) x (1 + 3)
        Assert.Equal(positionsBefore, FdPositions(pid)); // pread only: the owner's file position is untouched
    }

    [SkippableFact]
    public void PerVcpuModeAndAllowlist()
    {
        Skip.IfNot(CanRun(out var why), why);
        var pid = StartHelper(KvmStatsFixture.X86Vcpu(0).Build(), KvmStatsFixture.X86Vcpu(1, seed: 3).Build());
        using var source = new KvmStatsSource(KvmStatsMode.Vcpu, new[] { "exits", "halt_*" }, null, "/", IsMemfdStats);
        var metrics = new MetricSet();

        source.Collect(Context(Domain(pid)), metrics);

        Assert.True(metrics.TryGet("domain_vcpu_kvm_exits_total", out var exits));
        Assert.Equal(new[] { ("0", 1000d), ("1", 3000d) }, exits.Samples.Select(s => (s.LabelValues[2], s.Value)));
        Assert.Contains(metrics.Families, f => f.Name == "domain_vcpu_kvm_halt_wait_seconds_total");
        Assert.DoesNotContain(metrics.Families, f => f.Name.Contains("io_exits", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void ALyingBlobIsAPerDomainErrorAndTheOtherDomainsStillCount()
    {
        Skip.IfNot(CanRun(out var why), why);
        var good = StartHelper(KvmStatsFixture.X86Vcpu(0).Build());
        var lying = StartHelper(new KvmStatsFixture { NumDescOverride = 1000 }.Stat("exits", KvmStatsFixture.Cumulative, 0, 1).Build());
        using var source = new KvmStatsSource(KvmStatsMode.Vm, Array.Empty<string>(), null, "/", IsMemfdStats);
        var metrics = new MetricSet();
        var context = Context(Domain(lying, "liar"), Domain(good, "good"));

        source.Collect(context, metrics);

        var error = Assert.IsType<KvmStatsException>(Assert.Single(context.ItemErrors!));
        Assert.Equal("kvm_stats_format,offset", error.ErrorId);
        Assert.True(metrics.TryGet("domain_kvm_exits_total", out var exits));
        Assert.Equal("good", exits.Samples.Single().LabelValues[0]);
        Assert.Equal(1, source.OpenFds);
    }

    [SkippableFact]
    public void ABadBlobIsCountedOnceAndNotDuplicatedAgainWhileItsProcessLives()
    {
        Skip.IfNot(CanRun(out var why), why);
        var lying = StartHelper(KvmStatsFixture.X86Vcpu(0).Build(), new KvmStatsFixture { DataOffsetOverride = 1 << 20 }.Stat("exits", KvmStatsFixture.Cumulative, 0, 1).Build());
        using var source = new KvmStatsSource(KvmStatsMode.Vm, Array.Empty<string>(), null, "/", IsMemfdStats);
        var errors = new List<VmProbeException>();

        for (var cycle = 0; cycle < 2 * KvmStatsSource.RescanCycles + 1; cycle++) // past two rescans
        {
            var metrics = new MetricSet();
            source.Collect(new CycleContext(new[] { Domain(lying) }, DateTimeOffset.UnixEpoch, NullProbeLog.Instance, CancellationToken.None) { ItemErrors = errors }, metrics);
            Assert.Equal(0, source.OpenFds); // the good vCPU's fd is not kept either: half a domain would be a wrong sum
            Assert.False(metrics.TryGet("domain_kvm_exits_total", out _));
        }

        Assert.Equal("kvm_stats_format,offset", Assert.IsType<KvmStatsException>(Assert.Single(errors)).ErrorId);
    }

    [SkippableFact]
    public void StatsFdsWinOverLibvirtsStatsForTheSameDomain()
    {
        Skip.IfNot(CanRun(out var why), why);
        var pid = StartHelper(KvmStatsFixture.X86Vcpu(0).Build());
        using var source = new KvmStatsSource(KvmStatsMode.Vm, Array.Empty<string>(), null, "/", IsMemfdStats);
        var shared = new CycleState();
        shared.BeginCycle();
        shared.Get<HypervisorStatsShare>().Set(Domain(pid).Uuid, new List<HypervisorStat> { new(0, "exits", HypervisorStatKind.Sum, 5), new(null, "libvirt_only", HypervisorStatKind.Sum, 1) });
        var metrics = new MetricSet();

        source.Collect(new CycleContext(new[] { Domain(pid) }, DateTimeOffset.UnixEpoch, NullProbeLog.Instance, CancellationToken.None) { Shared = shared }, metrics);

        Assert.True(metrics.TryGet("domain_kvm_exits_total", out var exits));
        Assert.Equal(1000, exits.Samples.Single().Value);
        Assert.True(metrics.TryGet(KvmFamilies.StatsInfo.Name, out var info));
        Assert.Equal("binary", info.Samples.Single().LabelValues[2]);
        Assert.False(metrics.TryGet("domain_kvm_libvirt_only_total", out _));
    }

    [SkippableFact]
    public void FdsOfAVanishedDomainAreClosedAndADomainWithoutStatsFdsIsQuiet()
    {
        Skip.IfNot(CanRun(out var why), why);
        var pid = StartHelper(KvmStatsFixture.X86Vcpu(0).Build());
        using var source = new KvmStatsSource(KvmStatsMode.Vm, Array.Empty<string>(), null, "/", IsMemfdStats);
        source.Collect(Context(Domain(pid)), new MetricSet());
        Assert.Equal(1, source.OpenFds);

        var metrics = new MetricSet();
        var context = Context(Domain(StartHelper(), "plain")); // the helper's domain is gone; a process without stats fds
        source.Collect(context, metrics);

        Assert.Equal(0, source.OpenFds);
        Assert.Empty(context.ItemErrors!);
        Assert.DoesNotContain(metrics.Families, f => f.Samples.Count > 0);
    }

    [Fact]
    public void KernelLinkNames()
    {
        Assert.True(KvmStatsFd.IsKernelStatsLink("anon_inode:kvm-vcpu-stats:0"));
        Assert.True(KvmStatsFd.IsKernelStatsLink("anon_inode:kvm-vm-stats"));
        Assert.False(KvmStatsFd.IsKernelStatsLink("anon_inode:kvm-vcpu:0"));
        Assert.False(KvmStatsFd.IsKernelStatsLink("anon_inode:kvm-vm"));
    }

    [Fact]
    public void OffWritesNothing()
    {
        using var source = new KvmStatsSource(new ProbeConfig { KvmStats = KvmStatsMode.Off });
        var metrics = new MetricSet();

        source.Collect(Context(Domain(Environment.ProcessId)), metrics);

        Assert.Empty(metrics.Families);
    }

    private static Dictionary<string, string> FdPositions(int pid) =>
        Directory.GetFiles($"/proc/{pid}/fdinfo").ToDictionary(f => Path.GetFileName(f), f => File.ReadLines(f).First());

    public void Dispose()
    {
        foreach (var helper in _helpers)
        {
            try
            {
                helper.Kill();
                helper.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
            }

            helper.Dispose();
        }

        foreach (var file in _files)
        {
            File.Delete(file);
        }
    }
}
