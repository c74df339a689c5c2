namespace VmProbe.Kvm.Exits;

/// <summary>Builds a tracer for the options; throws <see cref="KvmExitTracerUnavailableException"/> when it cannot run here.</summary>
internal delegate IKvmExitTracer KvmExitTracerFactory(KvmExitsOptions options, IProbeLog log);

/// <summary>The tracer that runs, or none, and why (one line for the log and <c>--check</c>).</summary>
internal sealed record KvmExitTracerChoice(IKvmExitTracer? Tracer, KvmExitTracerMode Mode, string Why);

/// <summary>
/// Chooses how VM exits are counted: the eBPF tracer when it loads, else the perf-filter fallback (counts only), else
/// nothing (and the probe goes on without exit metrics).
/// </summary>
internal static class KvmExitTracers
{
    /// <summary>The eBPF tracer (programs aggregating in kernel maps); unavailable where eBPF cannot run.</summary>
    public static IKvmExitTracer Bpf(KvmExitsOptions options, IProbeLog log) => BpfExitTracer.Open(options, log);

    /// <summary>The perf-filter fallback on <c>kvm:kvm_exit</c>, for the configured reasons or the defaults of this host's ISA.</summary>
    public static IKvmExitTracer PerfFilter(KvmExitsOptions options, IProbeLog log)
    {
        // A host whose CPU flags name neither (a nested or PV guest) never fires kvm_exit; VMX names keep the labels readable.
        var isa = KvmExitReasons.HostIsa() == KvmExitIsa.Svm ? KvmExitIsa.Svm : KvmExitIsa.Vmx;
        return PerfFilterExitTracer.Create(FallbackReasons(options.Reasons, isa), isa, log);
    }

    /// <summary>The reason numbers the fallback counts: the configured ones (names of this ISA's table, or numbers), else a
    /// default set of the reasons that usually dominate (kvm_stat's top lines).</summary>
    public static IReadOnlyList<uint> FallbackReasons(IReadOnlyList<string> configured, KvmExitIsa isa)
    {
        var table = isa == KvmExitIsa.Svm ? KvmExitIsa.Svm : KvmExitIsa.Vmx;
        if (configured.Count > 0)
        {
            var numbers = new List<uint>();
            foreach (var name in configured)
            {
                if (KvmExitReasons.TryParse(table, name, out var reason) && !numbers.Contains(reason))
                {
                    numbers.Add(reason);
                }
            }

            if (numbers.Count > 0)
            {
                return numbers;
            }
        }

        return table == KvmExitIsa.Svm
            ? new uint[] { 0x060, 0x078, 0x07b, 0x07c, 0x400, 0x077, 0x064, 0x402 } // interrupt hlt io msr npf pause vintr avic_unaccelerated_access
            : new uint[] { 1, 12, 30, 31, 32, 48, 49, 52 }; // EXTERNAL_INTERRUPT HLT IO_INSTRUCTION MSR_READ MSR_WRITE EPT_VIOLATION EPT_MISCONFIG PREEMPTION_TIMER
    }

    /// <summary>Tries the eBPF tracer, then the perf-filter one; never throws for a tracer that cannot run.</summary>
    public static KvmExitTracerChoice Choose(KvmExitsOptions options, IProbeLog log, KvmExitTracerFactory? bpf = null, KvmExitTracerFactory? perfFilter = null)
    {
        if (options.Mode == KvmExitsMode.Off)
        {
            return new KvmExitTracerChoice(null, KvmExitTracerMode.Off, "kvmexits: off");
        }

        string bpfWhy;
        try
        {
            var tracer = (bpf ?? new KvmExitTracerFactory(Bpf))(options, log);
            return new KvmExitTracerChoice(tracer, tracer.Mode, $"kvmexits: {ModeName(tracer.Mode)} ({tracer.Description})");
        }
        catch (KvmExitTracerUnavailableException ex)
        {
            bpfWhy = ex.Message;
        }

        try
        {
            var tracer = (perfFilter ?? PerfFilter)(options, log);
            var lost = options.Mode == KvmExitsMode.Latency ? "; no handling-time histograms" : string.Empty;
            return new KvmExitTracerChoice(tracer, tracer.Mode, $"kvmexits: {ModeName(tracer.Mode)}, because {bpfWhy}{lost} ({tracer.Description})");
        }
        catch (KvmExitTracerUnavailableException ex)
        {
            return new KvmExitTracerChoice(null, KvmExitTracerMode.Off, $"kvmexits: off, because {bpfWhy}, and {ex.Message}; no VM exit metrics");
        }
    }

    /// <summary>The <c>mode</c> label: bpf-latency, bpf-counts, perf-filter, off.</summary>
    public static string ModeName(KvmExitTracerMode mode) => mode switch
    {
        KvmExitTracerMode.BpfLatency => "bpf-latency",
        KvmExitTracerMode.BpfCounts => "bpf-counts",
        KvmExitTracerMode.PerfFilter => "perf-filter",
        _ => "off",
    };
}
