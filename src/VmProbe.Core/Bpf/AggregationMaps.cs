namespace VmProbe.Bpf;

/// <summary>
/// The maps of programs/agg.h that every object built on it has (counts, latency, pending, threads, procs), read and
/// forgotten the same way for the KVM tracer and the syscall self-test. The scratch lists are reused each cycle.
/// </summary>
internal sealed class AggregationMaps
{
    private readonly List<KeyValuePair<AggCountKey, ulong>> _counts = new();
    private readonly List<KeyValuePair<AggHistKey, AggHist>> _hists = new();

    public AggregationMaps(BpfObject obj)
    {
        Object = obj;
        Counts = obj.Map("counts");
        Latency = obj.Map("latency");
    }

    public BpfObject Object { get; }

    public BpfMap Counts { get; }

    public BpfMap Latency { get; }

    /// <summary>Map name -> max_entries for <see cref="BpfObject.Load"/>: null keeps the C defaults of agg.h.</summary>
    public static IReadOnlyDictionary<string, uint> Sizes(uint? counts, uint? histograms)
    {
        var sizes = new Dictionary<string, uint>(StringComparer.Ordinal);
        if (counts is { } c)
        {
            sizes["counts"] = Math.Max(c, 1);
        }

        if (histograms is { } h)
        {
            sizes["latency"] = Math.Max(h, 1);
        }

        return sizes;
    }

    /// <summary>Every count key: (tgid, tid, f1, f2) -> count. The list is this object's scratch, valid until the next call.</summary>
    public List<KeyValuePair<AggCountKey, ulong>> ReadCounts()
    {
        _counts.Clear();
        Counts.ReadAll(_counts);
        return _counts;
    }

    /// <summary>Every histogram of <paramref name="map"/>; scratch, valid until the next call.</summary>
    public List<KeyValuePair<AggHistKey, AggHist>> ReadHistograms(BpfMap map)
    {
        _hists.Clear();
        map.ReadAll(_hists);
        return _hists;
    }

    /// <summary>Deletes a process's keys from the shared maps (the kernel does it at exit; this is for a VM the caller dropped).</summary>
    public int Forget(uint tgid)
    {
        var deleted = Counts.DeleteWhere<AggCountKey, ulong>((k, _) => k.Tgid == tgid);
        deleted += Latency.DeleteWhere<AggHistKey, AggHist>((k, _) => k.Tgid == tgid);
        deleted += Object.Map("pending").DeleteWhere<uint, AggPending>((_, p) => p.Tgid == tgid);
        deleted += Object.Map("threads").DeleteWhere<uint, uint>((_, owner) => owner == tgid);
        Object.Map("procs").DeleteWhere<uint, uint>((k, _) => k == tgid);
        return deleted;
    }
}
