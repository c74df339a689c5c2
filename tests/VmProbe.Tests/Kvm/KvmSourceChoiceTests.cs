using VmProbe.Config;
using VmProbe.Kvm;
using VmProbe.Tests.Libvirt;
using Xunit;

namespace VmProbe.Tests.Kvm;

/// <summary>
/// Which source serves a domain without stats fds: libvirt's hypervisor statistics handed over in the cycle's shared
/// state, else debugfs; one source per domain and cycle, one log line per domain and source, state bounded by the
/// processes present. On a fake root (no /proc/PID/fd stats links) with a debugfs tree for pid 4242.
/// </summary>
public sealed class KvmSourceChoiceTests : IDisposable
{
    private static readonly Guid Uuid = Guid.Parse("0e1d2c3b-0000-0000-0000-000000000042");
    private readonly string _root = Directory.CreateTempSubdirectory("kvm-choice-").FullName;
    private readonly CycleState _shared = new();
    private readonly RecordingLog _log = new();

    public KvmSourceChoiceTests()
    {
        var vm = Path.Combine(_root, "debug", "kvm", "4242-11");
        Directory.CreateDirectory(vm);
        File.WriteAllText(Path.Combine(vm, "exits"), "77\n");
        Directory.CreateDirectory(Path.Combine(_root, "proc", "4242", "fd"));
    }

    private KvmStatsSource Source(KvmStatsMode mode = KvmStatsMode.Vm) =>
        new(mode, Array.Empty<string>(), _log, _root, KvmStatsFd.IsKernelStatsLink, new KvmDebugfs(Path.Combine(_root, "debug")));

    private static VmDomain Domain(int pid = 4242, string name = "vm1") => new() { Name = name, Pid = pid, Uuid = Uuid };

    /// <summary>One cycle: the shared state begins a cycle, libvirt's part (if any) is filled, the KVM source collects.</summary>
    private MetricSet Cycle(KvmStatsSource source, List<HypervisorStat>? fromLibvirt, params VmDomain[] domains)
    {
        _shared.BeginCycle();
        var share = _shared.Get<HypervisorStatsShare>();
        share.VmGroupRequested = true;
        if (fromLibvirt is not null)
        {
            share.Set(Uuid, fromLibvirt);
        }

        var metrics = new MetricSet();
        var context = new CycleContext(domains.Length == 0 ? new[] { Domain() } : domains, DateTimeOffset.UnixEpoch, _log, CancellationToken.None)
        {
            Shared = _shared,
            ItemErrors = new List<VmProbeException>(),
        };
        source.Collect(context, metrics);
        Assert.Empty(context.ItemErrors!);
        return metrics;
    }

    private static List<HypervisorStat> Libvirt() => new()
    {
        new(null, "remote_tlb_flush", HypervisorStatKind.Sum, 3),
        new(null, "max_mmu_page_hash_collisions", HypervisorStatKind.Max, 9),
        new(0, "exits", HypervisorStatKind.Sum, 1000),
        new(0, "halt_poll_success_ns", HypervisorStatKind.Sum, 1_500_000_000),
        new(0, "halt_wait_ns", HypervisorStatKind.Max, 40),
        new(1, "exits", HypervisorStatKind.Sum, 3000),
        new(1, "halt_poll_success_ns", HypervisorStatKind.Sum, 500_000_000),
        new(1, "halt_wait_ns", HypervisorStatKind.Max, 70),
        new(1, "guest_mode", HypervisorStatKind.Current, 1),
    };

    private static MetricFamily Family(MetricSet metrics, string name)
    {
        Assert.True(metrics.TryGet(name, out var family), $"{name} missing; families: {string.Join(", ", metrics.Families.Select(f => f.Name))}");
        return family;
    }

    [Fact]
    public void LibvirtStatsServeTheDomainInTheStatsFdsFamiliesAndDebugfsStaysOut()
    {
        using var source = Source();

        var metrics = Cycle(source, Libvirt());

        Assert.Equal(4000, Family(metrics, "domain_kvm_exits_total").Samples.Single().Value); // vCPUs summed
        var seconds = Family(metrics, "domain_kvm_halt_poll_success_seconds_total");
        Assert.Equal(MetricType.Counter, seconds.Type);
        Assert.Equal(2.0, seconds.Samples.Single().Value, 9); // ns -> s, from the name as kvm_stat does
        var peak = Family(metrics, "domain_kvm_halt_wait_seconds");
        Assert.Equal(MetricType.Gauge, peak.Type);
        Assert.Equal(70e-9, peak.Samples.Single().Value, 15); // max over vCPUs
        Assert.Equal(MetricType.Gauge, Family(metrics, "domain_kvm_max_mmu_page_hash_collisions").Type);
        Assert.Equal(3, Family(metrics, "domain_kvm_remote_tlb_flush_total").Samples.Single().Value);
        var info = Family(metrics, KvmFamilies.StatsInfo.Name).Samples.Single();
        Assert.Equal(new[] { "vm1", Uuid.ToString("D"), "libvirt" }, info.LabelValues);
        Assert.Equal(4000, Family(metrics, "domain_kvm_exits_total").Samples.Sum(s => s.Value)); // not 4000 + debugfs' 77
    }

    [Fact]
    public void PerVcpuModeGivesTheLibvirtVcpuStatsTheirVcpuLabel()
    {
        using var source = Source(KvmStatsMode.Vcpu);

        var metrics = Cycle(source, Libvirt());

        var exits = Family(metrics, "domain_vcpu_kvm_exits_total");
        Assert.Equal(new[] { ("0", 1000d), ("1", 3000d) }, exits.Samples.Select(s => (s.LabelValues[2], s.Value)));
        Assert.Equal(3, Family(metrics, "domain_kvm_remote_tlb_flush_total").Samples.Single().Value); // VM-wide stays per domain
    }

    [Fact]
    public void FallsBackToDebugfsWhenLibvirtGivesNothingAndLogsEachChangeOnce()
    {
        using var source = Source();
        for (var i = 0; i < 5; i++)
        {
            var metrics = Cycle(source, null);
            Assert.Equal("debugfs", Family(metrics, KvmFamilies.StatsInfo.Name).Samples.Single().LabelValues[2]);
            Assert.Equal(77, Family(metrics, "domain_kvm_exits_total").Samples.Single().Value);
        }

        for (var i = 0; i < 5; i++)
        {
            var metrics = Cycle(source, Libvirt());
            Assert.Equal("libvirt", Family(metrics, KvmFamilies.StatsInfo.Name).Samples.Single().LabelValues[2]);
        }

        Cycle(source, null);
        var lines = _log.Lines.Where(l => l.Message.Contains("'vm1'", StringComparison.Ordinal)).Select(l => l.Message).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Contains("source debugfs", lines[0]);
        Assert.Contains("libvirt gave no hypervisor statistics", lines[0]);
        Assert.Contains("source libvirt (was debugfs)", lines[1]);
    }

    [Fact]
    public void StateAndLogKeysGoWithTheProcesses()
    {
        using var source = Source();
        var first = Enumerable.Range(20_000, 50).Select(pid => Domain(pid, $"a{pid}")).ToArray();
        var second = Enumerable.Range(30_000, 50).Select(pid => Domain(pid, $"b{pid}")).ToArray();

        Cycle(source, null, first);
        var perFirst = source.LogKeys;
        Cycle(source, null, second);
        Cycle(source, null, second);

        Assert.Equal(50, source.TrackedProcesses);
        Assert.Equal(perFirst, source.LogKeys); // the first 50 processes' keys went with them
        var summaries = _log.Lines.Where(l => l.Message.Contains("no KVM statistics for", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, summaries.Count); // one per set of new domains, none per domain
        Assert.Contains("for 50 domain(s): 'b30000'", summaries[1].Message);

        Cycle(source, null, Domain());
        Assert.Equal(1, source.TrackedProcesses);
        Assert.True(source.LogKeys <= 3, $"{source.LogKeys} log keys for one process");
    }

    [Fact]
    public void DomainsNoSourceServesOnAHostWithoutKvmGetOneLineOverCycles()
    {
        using var source = new KvmStatsSource(KvmStatsMode.Vm, Array.Empty<string>(), _log, _root, KvmStatsFd.IsKernelStatsLink,
            new KvmDebugfs(Path.Combine(_root, "no-debugfs"), mayMount: false));
        var domains = Enumerable.Range(20_000, 56).Select(pid => Domain(pid, $"d{pid}")).ToArray();

        for (var cycle = 0; cycle < 6; cycle++)
        {
            _shared.BeginCycle();
            _shared.Get<HypervisorStatsShare>().VmGroupRequested = true;
            _shared.Get<HypervisorStatsShare>().VmGroupUnavailable = "libvirt at test:///default returned no VIR_DOMAIN_STATS_VM data";
            source.Collect(new CycleContext(domains, DateTimeOffset.UnixEpoch, _log, CancellationToken.None) { Shared = _shared }, new MetricSet());
        }

        var kvmLines = _log.Lines.Where(l => l.Message.StartsWith("kvm:", StringComparison.Ordinal) && !l.Message.Contains("no KVM debugfs:", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(kvmLines).Message;
        Assert.Contains("no KVM statistics for 56 domain(s): 'd20000', 'd20001', 'd20002', 'd20003', 'd20004' and 51 more", line);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(line, "VIR_DOMAIN_STATS_VM"));
        Assert.Contains("no-debugfs", line); // debugfs' own cause, named once
    }

    [Fact]
    public void ADomainThatLosesItsSourceAfterBeingServedGetsItsOwnLine()
    {
        using var source = new KvmStatsSource(KvmStatsMode.Vm, Array.Empty<string>(), _log, _root, KvmStatsFd.IsKernelStatsLink,
            new KvmDebugfs(Path.Combine(_root, "no-debugfs"), mayMount: false));
        Cycle(source, Libvirt());
        Cycle(source, null);
        Cycle(source, null);

        var lines = _log.Lines.Where(l => l.Message.Contains("'vm1'", StringComparison.Ordinal)).Select(l => l.Message).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Contains("source none (was libvirt)", lines[1]);
        Assert.DoesNotContain(_log.Lines, l => l.Message.Contains("no KVM statistics for", StringComparison.Ordinal));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
