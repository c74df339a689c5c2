using System.Text;
using VmProbe.Config;
using VmProbe.Kvm;
using VmProbe.Prometheus;
using Xunit;

namespace VmProbe.Tests.Kvm;

/// <summary>
/// The debugfs fallback on a tree with every file a Linux 6.x x86 host's /sys/kernel/debug/kvm has: the VM and vCPU
/// statistics of arch/x86/kvm/x86.c and virt/kvm/kvm_main.c at the top (totals over all VMs) and in each VM's
/// <c>PID-FD</c> directory, with the modes debugfs gives them (0644 cumulative and peak, 0444 instant), the
/// histograms' first-bucket files, the MMU's text file and the per-vCPU directories, which must all be skipped.
/// </summary>
public sealed class KvmDebugfsX86HostTests : IDisposable
{
    private static readonly string[] Cumulative =
    {
        // VM: generic and x86
        "remote_tlb_flush", "remote_tlb_flush_requests", "mmu_shadow_zapped", "mmu_pte_write", "mmu_pde_zapped",
        "mmu_flooded", "mmu_recycled", "mmu_cache_miss", "mmu_unsync",
        // vCPU: generic halt polling
        "halt_successful_poll", "halt_attempted_poll", "halt_poll_invalid", "halt_wakeup", "halt_poll_success_ns",
        "halt_poll_fail_ns", "halt_wait_ns",
        // vCPU: x86
        "pf_taken", "pf_fixed", "pf_emulate", "pf_spurious", "pf_fast", "pf_mmio_spte_created", "pf_guest", "tlb_flush",
        "invlpg", "exits", "io_exits", "mmio_exits", "signal_exits", "irq_window_exits", "nmi_window_exits", "l1d_flush",
        "halt_exits", "request_irq_exits", "irq_exits", "host_state_reload", "fpu_reload", "insn_emulation",
        "insn_emulation_fail", "hypercalls", "irq_injections", "nmi_injections", "req_event", "nested_run",
        "directed_yield_attempted", "directed_yield_successful", "preemption_reported", "preemption_other",
        "notify_window_exits",
    };

    private static readonly string[] Instant = { "pages_4k", "pages_2m", "pages_1g", "nx_lpage_splits", "blocking", "guest_mode" };
    private static readonly string[] Peak = { "max_mmu_page_hash_collisions", "max_mmu_rmap_size" };
    private static readonly string[] Histograms = { "halt_poll_success_hist", "halt_poll_fail_hist", "halt_wait_hist" };

    private const UnixFileMode Rw = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode Ro = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private static readonly Guid Web = Guid.Parse("11111111-2222-3333-4444-555555555555");
    private static readonly Guid Db = Guid.Parse("66666666-7777-8888-9999-000000000000");

    private readonly string _root = Directory.CreateTempSubdirectory("kvm-debugfs-x86-").FullName;

    public KvmDebugfsX86HostTests()
    {
        var kvm = Path.Combine(_root, "debug", "kvm");
        WriteStats(kvm, 1000);
        WriteStats(Path.Combine(kvm, "4242-11"), 10);
        WriteStats(Path.Combine(kvm, "4343-14"), 20);
        foreach (var vm in new[] { "4242-11", "4343-14" })
        {
            Write(Path.Combine(kvm, vm), "mmu_rmaps_stat", "rmap_count 0 1 2 3\n", Ro);
            for (var vcpu = 0; vcpu < 2; vcpu++)
            {
                var dir = Path.Combine(kvm, vm, $"vcpu{vcpu}");
                Write(dir, "guest_mode", "0\n", Ro);
                Write(dir, "tsc-offset", "-123456789\n", Ro);
                Write(dir, "tsc-scaling-ratio", "281474976710656\n", Ro);
                Write(dir, "tsc-scaling-ratio-frac-bits", "48\n", Ro);
                Write(dir, "lapic_timer_advance_ns", "1000\n", Ro);
            }
        }
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>Every statistic, valued base + its index (the _ns ones in whole seconds' worth of ns).</summary>
    private static void WriteStats(string directory, long valueBase)
    {
        var i = 0;
        foreach (var name in Cumulative.Concat(Peak))
        {
            Write(directory, name, $"{Value(name, valueBase, i++)}\n", Rw);
        }

        foreach (var name in Instant)
        {
            Write(directory, name, $"{Value(name, valueBase, i++)}\n", Ro);
        }

        foreach (var name in Histograms)
        {
            Write(directory, name, "7\n", Rw);
        }
    }

    private static long Value(string name, long valueBase, int index) => name.EndsWith("_ns", StringComparison.Ordinal) ? (valueBase + index) * 1_000_000_000L : valueBase + index;

    private static void Write(string directory, string name, string text, UnixFileMode mode)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, text);
#pragma warning disable CA1416 // Linux only
        File.SetUnixFileMode(path, mode);
#pragma warning restore CA1416
    }

    private string Render()
    {
        using var source = new KvmStatsSource(KvmStatsMode.Vm, Array.Empty<string>(), null, _root, KvmStatsFd.IsKernelStatsLink, new KvmDebugfs(Path.Combine(_root, "debug")));
        var metrics = new MetricSet();
        var context = new CycleContext(
            new[] { new VmDomain { Name = "web", Pid = 4242, Uuid = Web }, new VmDomain { Name = "db", Pid = 4343, Uuid = Db } },
            DateTimeOffset.UnixEpoch, NullProbeLog.Instance, CancellationToken.None) { ItemErrors = new List<VmProbeException>() };
        source.Collect(context, metrics);
        Assert.Empty(context.ItemErrors!);
        return Encoding.UTF8.GetString(new PromTextWriter("vmprobe").Render(metrics, out _).Span);
    }

    private static string Family(string scope, string name) =>
        $"vmprobe_{scope}_kvm_" + (name.EndsWith("_ns", StringComparison.Ordinal) ? name[..^3] + "_seconds" : name)
        + (Cumulative.Contains(name) ? "_total" : string.Empty);

    [Fact]
    public void EveryStatisticOfTheHostAndOfEachVmIsOneSeriesWithItsTypeAndBaseUnit()
    {
        var text = Render();
        var lines = text.Split('\n');
        var index = 0;
        foreach (var name in Cumulative.Concat(Peak).Concat(Instant))
        {
            var seconds = name.EndsWith("_ns", StringComparison.Ordinal);
            Assert.Contains($"{Family("host", name)} {1000 + index}", lines);
            Assert.Contains($"{Family("domain", name)}{{domain=\"web\",uuid=\"{Web}\"}} {10 + index}", lines);
            Assert.Contains($"{Family("domain", name)}{{domain=\"db\",uuid=\"{Db}\"}} {20 + index}", lines);
            var type = Cumulative.Contains(name) ? "counter" : "gauge";
            Assert.Contains($"# TYPE {Family("domain", name)} {type}", lines);
            Assert.True(!seconds || Family("domain", name).EndsWith("_seconds_total", StringComparison.Ordinal), name);
            index++;
        }

        // One series per statistic per scope: nothing else from the tree (histogram files, rmaps text, vCPU directories).
        var expected = Cumulative.Length + Peak.Length + Instant.Length;
        Assert.Equal(expected, lines.Count(l => l.StartsWith("vmprobe_host_kvm_", StringComparison.Ordinal)));
        Assert.Equal(2 * expected, lines.Count(l => l.StartsWith("vmprobe_domain_kvm_", StringComparison.Ordinal) && !l.StartsWith("vmprobe_domain_kvm_stats_info", StringComparison.Ordinal)));
        Assert.DoesNotContain("hist", text, StringComparison.Ordinal);
        Assert.DoesNotContain("tsc", text, StringComparison.Ordinal);
        Assert.DoesNotContain("rmaps", text, StringComparison.Ordinal);
        Assert.DoesNotContain("lapic", text, StringComparison.Ordinal);
        Assert.Contains($"vmprobe_domain_kvm_stats_info{{domain=\"db\",uuid=\"{Db}\",source=\"debugfs\"}} 1", lines);
    }
}
