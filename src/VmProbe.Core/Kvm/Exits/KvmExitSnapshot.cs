namespace VmProbe.Kvm.Exits;

/// <summary>
/// A log2 histogram of nanoseconds as an eBPF program keeps it (bcc's log2 slots): <c>Buckets[i]</c> counts observations
/// v with 2^i &lt;= v &lt; 2^(i+1) ns (<c>Buckets[0]</c> also counts 0); <see cref="SumNs"/> is their sum, or null when
/// unknown. At most <see cref="MaxBuckets"/> buckets.
/// </summary>
public sealed record Log2Histogram(IReadOnlyList<ulong> Buckets, ulong? SumNs = null)
{
    public const int MaxBuckets = 64;

    public static Log2Histogram Empty { get; } = new(Array.Empty<ulong>(), 0);

    /// <summary>All observations (the buckets' sum, saturating).</summary>
    public ulong Count
    {
        get
        {
            ulong total = 0;
            foreach (var bucket in Buckets)
            {
                total = total > ulong.MaxValue - bucket ? ulong.MaxValue : total + bucket;
            }

            return total;
        }
    }

    /// <summary>Bucket by bucket sum (histograms of several threads or reasons); sums add when both are known.</summary>
    public Log2Histogram Add(Log2Histogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var length = Math.Min(MaxBuckets, Math.Max(Buckets.Count, other.Buckets.Count));
        var merged = new ulong[length];
        for (var i = 0; i < length; i++)
        {
            merged[i] = unchecked((i < Buckets.Count ? Buckets[i] : 0) + (i < other.Buckets.Count ? other.Buckets[i] : 0));
        }

        return new Log2Histogram(merged, SumNs is { } a && other.SumNs is { } b ? unchecked(a + b) : null);
    }

    /// <summary>What was observed since <paramref name="earlier"/> (a counter reset, a smaller bucket, yields this one whole).</summary>
    public Log2Histogram Since(Log2Histogram earlier)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        var delta = new ulong[Buckets.Count];
        for (var i = 0; i < delta.Length; i++)
        {
            var before = i < earlier.Buckets.Count ? earlier.Buckets[i] : 0;
            if (Buckets[i] < before)
            {
                return this;
            }

            delta[i] = Buckets[i] - before;
        }

        return new Log2Histogram(delta, SumNs is { } now && earlier.SumNs is { } then && now >= then ? now - then : null);
    }
}

/// <summary>Exits of one thread (<paramref name="Tid"/>) of one process (<paramref name="Tgid"/>) for one reason, since tracing began.</summary>
public readonly record struct KvmExitCount(int Tgid, int Tid, KvmExitIsa Isa, uint Reason, ulong Count);

/// <summary>Handling time (kvm_exit to the next kvm_entry on the thread) of one process's exits for one reason.</summary>
public sealed record KvmExitLatency(int Tgid, KvmExitIsa Isa, uint Reason, Log2Histogram Histogram);

/// <summary>Exits to userspace (QEMU) of one process for one KVM_EXIT_* reason.</summary>
public readonly record struct KvmUserspaceExitCount(int Tgid, uint Reason, ulong Count);

/// <summary>
/// The other KVM events of one process, since tracing began: MMU page faults (<c>kvm:kvm_page_fault</c>; the MMIO ones
/// when the tracer tells them apart, else null), halt-poll window grows and shrinks (<c>kvm:kvm_halt_poll_ns</c>),
/// vCPU wakeups (<c>kvm:kvm_vcpu_wakeup</c>, valid and invalid, with the halt/poll time as a histogram), and IRQ
/// injections (<c>kvm_inj_virq</c>, <c>kvm_msi_set_irq</c>, <c>kvm_pic_set_irq</c>, <c>kvm_ioapic_set_irq</c>).
/// </summary>
public sealed record KvmProcessEvents(int Tgid)
{
    public ulong PageFaults { get; init; }

    public ulong? MmioPageFaults { get; init; }

    public ulong HaltPollGrow { get; init; }

    public ulong HaltPollShrink { get; init; }

    public ulong WakeupsValid { get; init; }

    public ulong WakeupsInvalid { get; init; }

    public Log2Histogram WakeupHaltTime { get; init; } = Log2Histogram.Empty;

    public ulong InjectedVirq { get; init; }

    public ulong MsiSetIrq { get; init; }

    public ulong PicSetIrq { get; init; }

    public ulong IoapicSetIrq { get; init; }
}

/// <summary>
/// What a <see cref="IKvmExitTracer"/> has counted since it started, as plain records: cumulative values per process
/// (and per thread for exits). A tracer that counts exits only (the perf-filter fallback) leaves the other lists empty.
/// </summary>
public sealed record KvmExitSnapshot(
    IReadOnlyList<KvmExitCount> Exits,
    IReadOnlyList<KvmExitLatency> Latencies,
    IReadOnlyList<KvmUserspaceExitCount> UserspaceExits,
    IReadOnlyList<KvmProcessEvents> Events)
{
    public static KvmExitSnapshot Empty { get; } = new(
        Array.Empty<KvmExitCount>(), Array.Empty<KvmExitLatency>(), Array.Empty<KvmUserspaceExitCount>(), Array.Empty<KvmProcessEvents>());
}
