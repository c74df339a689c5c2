using VmProbe.Kvm;
using VmProbe.Kvm.Exits;
using Xunit;

namespace VmProbe.Tests.Kvm.Exits;

/// <summary>
/// The exit families never take a name KVM's own statistics take: <c>KvmStatsEmitter</c> names those from the kernel's
/// statistic names (x86 vCPU and VM statistics and debugfs files of a 6.x kernel), whatever type and unit the kernel gives.
/// </summary>
public class KvmExitFamiliesTests
{
    private static readonly string[] KernelStatistics =
    {
        "halt_successful_poll", "halt_attempted_poll", "halt_poll_invalid", "halt_wakeup", "halt_poll_success_ns", "halt_poll_fail_ns",
        "halt_wait_ns", "halt_poll_success_hist", "halt_poll_fail_hist", "halt_wait_hist", "blocking", "pf_taken", "pf_fixed",
        "pf_emulate", "pf_spurious", "pf_fast", "pf_mmio_spte_created", "pf_guest", "tlb_flush", "invlpg", "exits", "io_exits",
        "mmio_exits", "signal_exits", "irq_window_exits", "nmi_window_exits", "l1d_flush", "halt_exits", "request_irq_exits",
        "irq_exits", "host_state_reload", "fpu_reload", "insn_emulation", "insn_emulation_fail", "hypercalls", "irq_injections",
        "nmi_injections", "req_event", "nested_run", "directed_yield_attempted", "directed_yield_successful", "preemption_reported",
        "preemption_other", "guest_mode", "notify_window_exits", "remote_tlb_flush", "remote_tlb_flush_requests", "mmu_shadow_zapped",
        "mmu_pte_write", "mmu_pde_zapped", "mmu_flooded", "mmu_recycled", "mmu_cache_miss", "mmu_unsync", "pages_4k", "pages_2m",
        "pages_1g", "nx_lpage_splits", "max_mmu_page_hash_collisions", "max_mmu_rmap_size",
    };

    private static IEnumerable<string> KvmStatsNames()
    {
        foreach (var name in KernelStatistics)
        {
            foreach (var type in new[] { KvmStatType.Cumulative, KvmStatType.Instant, KvmStatType.LogHistogram })
            {
                foreach (var unit in new[] { KvmStatUnit.None, KvmStatUnit.Seconds })
                {
                    var stem = KvmStatsEmitter.MetricName(new KvmStatDescriptor(name, type, unit, KvmStatBase.Pow10, 0, 1, 0, 0));
                    yield return KvmFamilies.DomainPrefix + stem;
                    yield return KvmFamilies.VcpuPrefix + stem;
                    yield return KvmFamilies.HostPrefix + stem;
                }
            }
        }
    }

    [Fact]
    public void NoExitFamilyTakesAKvmStatisticsName()
    {
        var kvm = KvmStatsNames().ToHashSet(StringComparer.Ordinal);
        Assert.Contains("domain_kvm_exits_total", kvm); // KVM's own exit counter: the reason is why ours has another name
        Assert.Contains("domain_kvm_irq_injections_total", kvm);
        var ours = typeof(KvmExitFamilies).GetFields().Select(f => ((MetricDesc)f.GetValue(null)!).Name).ToList();
        Assert.True(ours.Count >= 13);
        Assert.All(ours, name => Assert.DoesNotContain(name, kvm));
    }
}
