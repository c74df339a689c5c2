namespace VmProbe.Bpf;

/// <summary>
/// A log2 histogram read from a BPF map: <see cref="Buckets"/>[i] counts observations in [2^i, 2^(i+1)) ns (bucket 0
/// also holds 0 ns; the last bucket is open-ended), with their sum and count.
/// </summary>
public sealed record BpfHistogram(ulong[] Buckets, ulong SumNs, ulong Count)
{
    /// <summary>The lower bound in ns of bucket <paramref name="index"/>.</summary>
    public static ulong LowerBoundNs(int index) => index == 0 ? 0 : 1UL << index;

    /// <summary>The exclusive upper bound in ns of bucket <paramref name="index"/> (the last bucket's nominal bound).</summary>
    public static ulong UpperBoundNs(int index) => 1UL << (index + 1);

    internal static BpfHistogram From(in AggHist hist) => new(hist.CopyBuckets(), hist.SumNs, hist.Count);
}
