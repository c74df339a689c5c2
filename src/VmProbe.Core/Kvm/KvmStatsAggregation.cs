namespace VmProbe.Kvm;

/// <summary>
/// One domain's per-domain sums (<c>kvmstats: vm</c>), kept from cycle to cycle: which reading of which stats fd goes into
/// which statistic, its family and its histogram bounds are worked out when the fds change (the first cycle, the fds
/// opened again after a failed read), and a cycle only adds the values up into arrays it reuses. Summed as
/// <see cref="KvmStatsEmitter.Aggregate"/> sums (the same result, tested): per name, the first shape wins.
/// </summary>
/// <remarks>
/// A stats fd hands out the same snapshot every cycle, its values refilled by each read (<see cref="KvmStatsFd.Read"/>),
/// so the same snapshot instances in the same order (and the same allow-list) mean the same plan.
/// </remarks>
internal sealed class KvmStatsAggregation
{
    private KvmStatsSnapshot[] _snapshots = Array.Empty<KvmStatsSnapshot>();
    private Func<string, bool>? _allow;
    private Entry[] _entries = Array.Empty<Entry>();

    /// <summary>Times the plan was (re)built; for tests.</summary>
    internal int Plans { get; private set; }

    /// <summary>This cycle's per-domain statistics, each summed over the snapshots (valid until the next call).</summary>
    public IReadOnlyList<Entry> Sum(IReadOnlyList<KvmStatsSnapshot> snapshots, Func<string, bool>? allow)
    {
        if (!IsPlanFor(snapshots, allow))
        {
            Plan(snapshots, allow);
        }

        foreach (var entry in _entries)
        {
            entry.Sum(_snapshots);
        }

        return _entries;
    }

    /// <summary>Drops the plan and what it holds (the fds' snapshots): the next <see cref="Sum"/> plans again.</summary>
    public void Forget()
    {
        _snapshots = Array.Empty<KvmStatsSnapshot>();
        _entries = Array.Empty<Entry>();
        _allow = null;
    }

    private bool IsPlanFor(IReadOnlyList<KvmStatsSnapshot> snapshots, Func<string, bool>? allow)
    {
        if (!ReferenceEquals(allow, _allow) || snapshots.Count != _snapshots.Length || _snapshots.Length == 0)
        {
            return false;
        }

        for (var i = 0; i < _snapshots.Length; i++)
        {
            if (!ReferenceEquals(snapshots[i], _snapshots[i]))
            {
                return false;
            }
        }

        return true;
    }

    private void Plan(IReadOnlyList<KvmStatsSnapshot> snapshots, Func<string, bool>? allow)
    {
        var byName = new Dictionary<string, Entry>(StringComparer.Ordinal);
        var entries = new List<Entry>();
        for (var s = 0; s < snapshots.Count; s++)
        {
            var readings = snapshots[s].Readings;
            for (var r = 0; r < readings.Count; r++)
            {
                var descriptor = readings[r].Descriptor;
                if (allow is not null && !allow(descriptor.Name))
                {
                    continue;
                }

                if (!byName.TryGetValue(descriptor.Name, out var entry))
                {
                    entry = new Entry(descriptor);
                    byName.Add(descriptor.Name, entry);
                    entries.Add(entry);
                }
                else if (!entry.Descriptor.SameShapeAs(descriptor))
                {
                    continue;
                }

                entry.Parts.Add((s, r));
            }
        }

        _snapshots = snapshots.ToArray();
        _allow = allow;
        _entries = entries.ToArray();
        Plans++;
    }

    /// <summary>One per-domain statistic: where its values come from, their sum, and how it is written.</summary>
    internal sealed class Entry
    {
        public Entry(KvmStatDescriptor descriptor)
        {
            Descriptor = descriptor;
            Totals = new ulong[descriptor.Size];
            Family = KvmStatsEmitter.FamilyOf(KvmFamilies.DomainPrefix, 2, descriptor);
            if (descriptor.IsHistogram)
            {
                var bounds = KvmStatsEmitter.HistogramBounds(descriptor, descriptor.Size);
                Bounds = HistogramValue.AreValidBounds(bounds) ? bounds : null;
            }
        }

        public KvmStatDescriptor Descriptor { get; }

        /// <summary>The sum (peaks: the maximum; histograms: bucket by bucket) of this cycle's values.</summary>
        public ulong[] Totals { get; }

        public (string Name, MetricType Type, string Help) Family { get; }

        /// <summary>A histogram's finite bounds, made once (null: bounds no histogram can have, reported when written).</summary>
        public double[]? Bounds { get; }

        /// <summary>(snapshot, reading) of each value summed.</summary>
        public List<(int Snapshot, int Reading)> Parts { get; } = new();

        public void Sum(KvmStatsSnapshot[] snapshots)
        {
            var totals = Totals.AsSpan();
            var peak = Descriptor.Type == KvmStatType.Peak;
            for (var p = 0; p < Parts.Count; p++)
            {
                var (s, r) = Parts[p];
                ReadOnlySpan<ulong> values = snapshots[s].Readings[r].Values;
                if (p == 0)
                {
                    values.CopyTo(totals);
                    continue;
                }

                for (var i = 0; i < totals.Length; i++)
                {
                    totals[i] = peak ? Math.Max(totals[i], values[i]) : unchecked(totals[i] + values[i]);
                }
            }
        }
    }
}
