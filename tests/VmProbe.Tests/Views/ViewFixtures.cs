using VmProbe.Kvm.Exits;
using VmProbe.Libvirt;
using VmProbe.Procfs;
using VmProbe.Views;

namespace VmProbe.Tests.Views;

/// <summary>MetricSets as a cycle writes them: counters that grow by known amounts between two cycle timestamps.</summary>
internal sealed class ViewFixtures
{
    public const string Uuid = "3f0b6a52-6b3e-4d2c-9a3f-2f1d7e0b9c11";

    /// <summary>A set with the probe's cycle timestamp at <paramref name="seconds"/> (unix time).</summary>
    public static MetricSet At(double seconds)
    {
        var set = new MetricSet();
        set.Family(ProbeFamilies.LastCycleTimestamp).Add(seconds);
        return set;
    }

    /// <summary>Stamps every family of <paramref name="set"/> as read at <paramref name="seconds"/>, as the cycle does per source.</summary>
    public static void ReadAt(MetricSet set, double seconds) =>
        set.StampReadTime(DateTimeOffset.UnixEpoch.AddSeconds(seconds));

    /// <summary>The frame a fresh builder makes of <paramref name="second"/> after <paramref name="first"/>: rates over their interval.</summary>
    public static ViewFrame SecondFrame(MetricSet first, MetricSet second)
    {
        var builder = new ViewFrameBuilder();
        builder.Build(first);
        return builder.Build(second);
    }

    public static void Vm(MetricSet set, string name, double run, double wait, double vcpuRun, double vcpuWait, double rss = 128 << 20)
    {
        set.Family(DomainProcfsFamilies.SchedRunSeconds).Add(run, name, Uuid);
        set.Family(DomainProcfsFamilies.SchedWaitSeconds).Add(wait, name, Uuid);
        set.Family(DomainProcfsFamilies.VcpuSchedRunSeconds).Add(vcpuRun, name, Uuid, "0");
        set.Family(DomainProcfsFamilies.VcpuSchedWaitSeconds).Add(vcpuWait, name, Uuid, "0");
        set.Family(LibvirtFamilies.Rss).Add(rss, name, Uuid);
    }

    public static void Exits(MetricSet set, string name, params (string Reason, double Count)[] reasons)
    {
        foreach (var (reason, count) in reasons)
        {
            set.Family(KvmExitFamilies.ExitsByReason).Add(count, name, Uuid, reason);
        }
    }

    public static void Event(MetricSet set, string name, string @event, double count) =>
        set.Family(PerfSampleFamilies.DomainEvents).Add(count, name, Uuid, @event);

    public static void Io(MetricSet set, string name, double read, double write, double rx, double tx)
    {
        set.Family(LibvirtFamilies.BlockReadBytes).Add(read, name, Uuid, "vda");
        set.Family(LibvirtFamilies.BlockWriteBytes).Add(write, name, Uuid, "vda");
        set.Family(LibvirtFamilies.RxBytes).Add(rx, name, Uuid, "vnet0");
        set.Family(LibvirtFamilies.TxBytes).Add(tx, name, Uuid, "vnet0");
    }

    public static void Energy(MetricSet set, string name, double joules, string zone = "package-0") =>
        set.Family(VmProbe.Power.PowerFamilies.DomainEnergy).Add(joules, name, Uuid, zone);

    public static void HostCpu(MetricSet set, params (string Mode, double Seconds)[] modes)
    {
        foreach (var (mode, seconds) in modes)
        {
            set.Family(HostProcfsFamilies.CpuSeconds).Add(seconds, mode);
        }
    }
}
