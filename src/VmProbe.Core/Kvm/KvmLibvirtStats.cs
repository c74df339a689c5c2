namespace VmProbe.Kvm;

/// <summary>
/// libvirt's hypervisor statistics (<c>vm.NAME.TYPE</c>, <c>vcpu.N.NAME.TYPE</c>) as KVM statistics, so that they go
/// through the same emitter, filter and families as the stats fds': <c>sum</c> is cumulative (a counter), <c>cur</c>
/// instant and <c>max</c> peak (gauges). libvirt passes neither unit nor exponent, so the unit comes from the name as
/// kvm_stat and the debugfs source take it (<c>_ns</c>: nanoseconds). libvirt documents only scalar and boolean
/// values: KVM's histograms do not come this way.
/// </summary>
internal static class KvmLibvirtStats
{
    /// <summary>One snapshot for the VM-wide statistics (Vcpu null) and one per vCPU, in vCPU order.</summary>
    public static List<KvmStatsSnapshot> ToSnapshots(IReadOnlyList<HypervisorStat> stats)
    {
        var byVcpu = new SortedDictionary<int, List<KvmStatReading>>();
        var vm = new List<KvmStatReading>();
        var seen = new HashSet<(int, string)>();
        foreach (var stat in stats)
        {
            // A name reported twice in one scope (two TYPEs of one statistic) would make two series of one family.
            if (!seen.Add((stat.Vcpu ?? -1, stat.Name)))
            {
                continue;
            }

            var reading = new KvmStatReading(Descriptor(stat.Name, stat.Kind), new[] { stat.Value });
            if (stat.Vcpu is { } vcpu)
            {
                if (!byVcpu.TryGetValue(vcpu, out var list))
                {
                    byVcpu.Add(vcpu, list = new List<KvmStatReading>());
                }

                list.Add(reading);
            }
            else
            {
                vm.Add(reading);
            }
        }

        var snapshots = new List<KvmStatsSnapshot>(byVcpu.Count + 1);
        if (vm.Count > 0)
        {
            snapshots.Add(new KvmStatsSnapshot(null, vm));
        }

        foreach (var (vcpu, readings) in byVcpu)
        {
            snapshots.Add(new KvmStatsSnapshot(vcpu, readings));
        }

        return snapshots;
    }

    internal static KvmStatDescriptor Descriptor(string name, HypervisorStatKind kind)
    {
        var type = kind switch
        {
            HypervisorStatKind.Sum => KvmStatType.Cumulative,
            HypervisorStatKind.Max => KvmStatType.Peak,
            _ => KvmStatType.Instant,
        };
        return KvmDebugfs.DescriptorFromName(name, type);
    }
}
