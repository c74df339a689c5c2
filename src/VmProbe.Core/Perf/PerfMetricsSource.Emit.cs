using System.Globalization;
using VmProbe.Native;
using VmProbe.Procfs;

namespace VmProbe.Perf;

/// <summary>The perf source, part 3: the counts it writes, in the families of <see cref="PerfFamilies"/>.</summary>
internal sealed partial class PerfMetricsSource
{
    /// <summary>CPU cycles (PERF_COUNT_HW_CPU_CYCLES), the activity the power source divides energy by where it counts.</summary>
    private static bool IsCycles(PerfEventSpec spec) => spec.Kind == PerfEventKind.Hardware && spec.Config == 0;

    private void EmitHost(MetricSet metrics, DomainActivityShare? activity)
    {
        if (host is null)
        {
            return;
        }

        host.Read();
        if (activity is not null)
        {
            for (var i = 0; i < openable.Length; i++)
            {
                if (host.Status[i].Supported && IsCycles(openable[i]))
                {
                    activity.HostCycles = host.GetTotal(i).Scaled;
                }
            }
        }

        if (config.PerCpu)
        {
            var counts = metrics.Family(PerfSampleFamilies.HostCpuEvents);
            var ratios = metrics.Family(PerfSampleFamilies.HostCpuScalingRatio);
            for (var slot = 0; slot < hostCpuLabels!.Length; slot++)
            {
                for (var i = 0; i < openable.Length; i++)
                {
                    if (host.Status[i].Supported)
                    {
                        var count = host.GetPerCpu(i, slot);
                        counts.Add(count.Scaled, hostCpuLabels[slot][i]);
                        ratios.Add(count.RunningRatio, hostCpuLabels[slot][i]);
                    }
                }
            }

            return;
        }

        var total = metrics.Family(PerfSampleFamilies.HostEvents);
        var ratio = metrics.Family(PerfSampleFamilies.HostScalingRatio);
        for (var i = 0; i < openable.Length; i++)
        {
            if (host.Status[i].Supported)
            {
                var count = host.GetTotal(i);
                var labels = eventLabels[openableToEvent[i]];
                total.Add(count.Scaled, labels);
                ratio.Add(count.RunningRatio, labels);
            }
        }
    }

    private void EmitDomains(MetricSet metrics, DomainActivityShare? activity)
    {
        if (domains.Count == 0)
        {
            return;
        }

        var counts = metrics.Family(PerfSampleFamilies.DomainEvents);
        var ratios = metrics.Family(PerfSampleFamilies.DomainScalingRatio);
        MetricFamily? vcpuCounts = !config.CountsCgroups
            ? metrics.Family(PerfSampleFamilies.VcpuEvents)
            : null;

        foreach (var perf in domains.Values)
        {
            if (perf.Threads is { } threads)
            {
                threads.Read(threadListings, perf.Domain.Pid);
                for (var i = 0; i < perf.Events.Length; i++)
                {
                    if (!IsSupportedIn(threads.Status[i]))
                    {
                        continue;
                    }

                    var count = threads.GetTotal(i);
                    counts.Add(count.Scaled, perf.EventLabels[i]);
                    ratios.Add(count.RunningRatio, perf.EventLabels[i]);
                    ShareCycles(activity, perf, i, count);
                }

                foreach (var vcpu in perf.Domain.Vcpus)
                {
                    if (vcpu.ThreadId <= 0)
                    {
                        continue;
                    }

                    string[][]? vcpuLabels = null;
                    for (var i = 0; i < perf.Events.Length; i++)
                    {
                        if (IsSupportedIn(threads.Status[i]) && threads.TryGetThread(vcpu.ThreadId, i, out var count))
                        {
                            vcpuLabels ??= perf.VcpuLabels(vcpu.Index);
                            vcpuCounts!.Add(count.Scaled, vcpuLabels[i]);
                        }
                    }
                }
            }
            else if (perf.Cgroup is { } cgroup)
            {
                cgroup.Read();
                for (var i = 0; i < perf.Events.Length; i++)
                {
                    if (cgroup.Status[i].Supported)
                    {
                        var count = cgroup.GetTotal(i);
                        counts.Add(count.Scaled, perf.EventLabels[i]);
                        ratios.Add(count.RunningRatio, perf.EventLabels[i]);
                        ShareCycles(activity, perf, i, count);
                    }
                }
            }
        }
    }

    private static void ShareCycles(DomainActivityShare? activity, DomainPerf perf, int index, PerfCount count)
    {
        if (activity is not null && IsCycles(perf.Events[index]))
        {
            activity.SetCycles(perf.Domain.Uuid, count.Scaled);
        }
    }

    private static bool IsSupportedIn(PerfEventStatus? status) => status is { Supported: true };
}
