using System.Runtime.InteropServices;
using System.Text;
using VmProbe.Libvirt;
using VmProbe.Native;
using Xunit;

namespace VmProbe.Tests.Libvirt;

/// <summary>Decoding on a hand-built native virTypedParameter array, laid out as libvirt hands it over.</summary>
public unsafe class DomainStatsDecoderTests : IDisposable
{
    private readonly List<IntPtr> _allocations = new();
    private readonly List<IntPtr> _strings = new();

    [Fact]
    public void DecodesEveryGroupByTypeAndIndex()
    {
        var parameters = Build(
            ("state.state", VirTypedParameterType.Int, 1L),
            ("state.reason", VirTypedParameterType.Int, 5L),
            ("cpu.time", VirTypedParameterType.ULLong, 12_500_000_000L),
            ("cpu.user", VirTypedParameterType.ULLong, 10_000_000_000L),
            ("cpu.system", VirTypedParameterType.ULLong, 2_000_000_000L),
            ("cpu.haltpoll.success.time", VirTypedParameterType.ULLong, 1_500_000_000L),
            ("cpu.haltpoll.fail.time", VirTypedParameterType.ULLong, 250L),
            ("balloon.current", VirTypedParameterType.ULLong, 131072L),
            ("balloon.maximum", VirTypedParameterType.ULLong, 262144L),
            ("balloon.rss", VirTypedParameterType.ULLong, 90000L),
            ("balloon.major_fault", VirTypedParameterType.ULLong, 7L),
            ("vcpu.current", VirTypedParameterType.UInt, 2L),
            ("vcpu.maximum", VirTypedParameterType.UInt, 4L),
            ("vcpu.0.state", VirTypedParameterType.Int, 1L),
            ("vcpu.0.time", VirTypedParameterType.ULLong, 3_000_000_000L),
            ("vcpu.0.wait", VirTypedParameterType.ULLong, 400L),
            ("vcpu.0.delay", VirTypedParameterType.ULLong, 500L),
            ("vcpu.1.time", VirTypedParameterType.ULLong, 1_000L),
            ("vcpu.1.halted", VirTypedParameterType.Boolean, 1L),
            ("net.count", VirTypedParameterType.UInt, 3L),
            // net.0 is a type='user' NIC: counted but without fields; a gap the decoder must keep.
            ("net.2.name", VirTypedParameterType.String, "vnet7"),
            ("net.2.rx.bytes", VirTypedParameterType.ULLong, 1000L),
            ("net.2.tx.drop", VirTypedParameterType.ULLong, 3L),
            ("net.1.name", VirTypedParameterType.String, "vnet6"),
            ("net.1.rx.pkts", VirTypedParameterType.ULLong, 11L),
            ("block.count", VirTypedParameterType.UInt, 1L),
            ("block.0.name", VirTypedParameterType.String, "vda"),
            ("block.0.path", VirTypedParameterType.String, "/var/lib/libvirt/images/a b.qcow2"),
            ("block.0.rd.reqs", VirTypedParameterType.ULLong, 42L),
            ("block.0.rd.bytes", VirTypedParameterType.ULLong, 4096L),
            ("block.0.wr.bytes", VirTypedParameterType.LLong, 8192L),
            ("dirtyrate.calc_status", VirTypedParameterType.Int, 0L),
            ("vcpu.x.time", VirTypedParameterType.ULLong, 9L));

        var stats = new DomainStats { Name = "d" };
        DomainStatsDecoder.Decode(parameters.Pointer, parameters.Count, stats, includeRaw: true);

        Assert.Equal(VmDomainState.Running, stats.State);
        Assert.Equal(5, stats.StateReason);
        Assert.Equal(12_500_000_000UL, stats.CpuTimeNs);
        Assert.Equal(10_000_000_000UL, stats.CpuUserNs);
        Assert.Equal(2_000_000_000UL, stats.CpuSystemNs);
        Assert.Equal(1_500_000_000UL, stats.HaltPollSuccessNs);
        Assert.Equal(250UL, stats.HaltPollFailNs);
        Assert.Equal(131072UL, stats.Balloon.CurrentKiB);
        Assert.Equal(262144UL, stats.Balloon.MaximumKiB);
        Assert.Equal(90000UL, stats.Balloon.RssKiB);
        Assert.Equal(7UL, stats.Balloon.MajorFaults);
        Assert.Null(stats.Balloon.UnusedKiB);
        Assert.Equal(2, stats.VcpuCurrent);
        Assert.Equal(4, stats.VcpuMaximum);
        Assert.Equal(new[] { 0, 1 }, stats.Vcpus.Select(v => v.Index));
        Assert.Equal(3_000_000_000UL, stats.Vcpus[0].TimeNs);
        Assert.Equal(400UL, stats.Vcpus[0].WaitNs);
        Assert.Equal(500UL, stats.Vcpus[0].DelayNs);
        Assert.Equal(1, stats.Vcpus[0].State);
        Assert.True(stats.Vcpus[1].Halted);
        Assert.Null(stats.Vcpus[1].WaitNs);
        Assert.Equal(3, stats.NetCount);
        Assert.Equal(new[] { 1, 2 }, stats.Interfaces.Select(n => n.Index));
        Assert.Equal("vnet6", stats.Interfaces[0].Name);
        Assert.Equal(11UL, stats.Interfaces[0].RxPackets);
        Assert.Equal("vnet7", stats.Interfaces[1].Name);
        Assert.Equal(1000UL, stats.Interfaces[1].RxBytes);
        Assert.Equal(3UL, stats.Interfaces[1].TxDrops);
        Assert.Equal(1, stats.BlockCount);
        var disk = Assert.Single(stats.Blocks);
        Assert.Equal("vda", disk.Name);
        Assert.Equal("/var/lib/libvirt/images/a b.qcow2", disk.Path);
        Assert.Equal(42UL, disk.ReadRequests);
        Assert.Equal(4096UL, disk.ReadBytes);
        Assert.Equal(8192UL, disk.WriteBytes);
        Assert.Null(disk.WriteRequests);

        Assert.NotNull(stats.Raw);
        Assert.Equal(parameters.Count, stats.Raw!.Count);
        Assert.Equal(12_500_000_000UL, stats.Raw["cpu.time"]);
        Assert.Equal(8192L, stats.Raw["block.0.wr.bytes"]);
        Assert.Equal(true, stats.Raw["vcpu.1.halted"]);
        Assert.Equal("vnet7", stats.Raw["net.2.name"]);
    }

    [Fact]
    public void DecodesHypervisorStatsOfTheVmGroupAndPerVcpu()
    {
        // libvirt's documented forms: vm.NAME.TYPE and vcpu.N.NAME.TYPE, TYPE cur/sum/max, an unsigned long long or a boolean.
        var parameters = Build(
            ("vcpu.0.state", VirTypedParameterType.Int, 1L),
            ("vcpu.0.exits.sum", VirTypedParameterType.ULLong, 1000L),
            ("vcpu.0.halt_poll_success_ns.sum", VirTypedParameterType.ULLong, 1_500_000_000L),
            ("vcpu.0.blocking.cur", VirTypedParameterType.Boolean, 1L),
            ("vcpu.1.exits.sum", VirTypedParameterType.ULLong, 3000L),
            ("vcpu.1.time", VirTypedParameterType.ULLong, 7L),
            ("vm.remote_tlb_flush.sum", VirTypedParameterType.ULLong, 3L),
            ("vm.max_mmu_page_hash_collisions.max", VirTypedParameterType.ULLong, 9L),
            ("vm.pages_4k.cur", VirTypedParameterType.ULLong, 512L),
            ("vm.pages_4k.avg", VirTypedParameterType.ULLong, 1L),         // no such TYPE: left out
            ("vm.halt_wait_hist.sum", VirTypedParameterType.String, "1,2"), // neither ullong nor boolean: left out
            ("vm.a.b.sum", VirTypedParameterType.ULLong, 1L),               // a dotted NAME is no KVM statistic
            ("vm.sum", VirTypedParameterType.ULLong, 1L));                  // no NAME

        var stats = new DomainStats { Name = "d" };
        DomainStatsDecoder.Decode(parameters.Pointer, parameters.Count, stats, includeRaw: false);

        Assert.Equal(
            new[]
            {
                new HypervisorStat(0, "exits", HypervisorStatKind.Sum, 1000),
                new HypervisorStat(0, "halt_poll_success_ns", HypervisorStatKind.Sum, 1_500_000_000),
                new HypervisorStat(0, "blocking", HypervisorStatKind.Current, 1),
                new HypervisorStat(1, "exits", HypervisorStatKind.Sum, 3000),
                new HypervisorStat(null, "remote_tlb_flush", HypervisorStatKind.Sum, 3),
                new HypervisorStat(null, "max_mmu_page_hash_collisions", HypervisorStatKind.Max, 9),
                new HypervisorStat(null, "pages_4k", HypervisorStatKind.Current, 512),
            },
            stats.HypervisorStats);
        Assert.Equal(new[] { 0, 1 }, stats.Vcpus.Select(v => v.Index));
        Assert.Equal(1, stats.Vcpus[0].State);
        Assert.Equal(7UL, stats.Vcpus[1].TimeNs);
    }

    [Fact]
    public void FieldNameStopsAtEightyBytesWithoutTerminator()
    {
        var parameters = Build((new string('a', 80), VirTypedParameterType.ULLong, 1L));
        var name = DomainStatsDecoder.FieldName(parameters.Pointer);
        Assert.Equal(80, name.Length);
    }

    [Fact]
    public void NegativeAndDoubleValuesConvertSafely()
    {
        var parameters = Build(
            ("cpu.time", VirTypedParameterType.LLong, -5L),
            ("balloon.rss", VirTypedParameterType.Double, 2048.75));
        var stats = new DomainStats { Name = "d" };
        DomainStatsDecoder.Decode(parameters.Pointer, parameters.Count, stats, includeRaw: false);
        Assert.Equal(0UL, stats.CpuTimeNs);
        Assert.Equal(2048UL, stats.Balloon.RssKiB);
        Assert.Null(stats.Raw);
    }

    public void Dispose()
    {
        foreach (var pointer in _allocations)
        {
            Marshal.FreeHGlobal(pointer);
        }

        foreach (var text in _strings)
        {
            Marshal.FreeCoTaskMem(text);
        }
    }

    private NativeParameters Build(params (string Name, VirTypedParameterType Type, object Value)[] fields)
    {
        var block = Marshal.AllocHGlobal(sizeof(VirTypedParameter) * fields.Length);
        _allocations.Add(block);
        var parameters = (VirTypedParameter*)block;
        new Span<byte>((void*)block, sizeof(VirTypedParameter) * fields.Length).Clear();
        for (var i = 0; i < fields.Length; i++)
        {
            var (name, type, value) = fields[i];
            var bytes = Encoding.UTF8.GetBytes(name);
            bytes.AsSpan(0, Math.Min(bytes.Length, 80)).CopyTo(new Span<byte>(parameters[i].Field, 80));
            parameters[i].Type = type;
            switch (type)
            {
                case VirTypedParameterType.Int:
                    parameters[i].IntValue = (int)(long)value;
                    break;
                case VirTypedParameterType.UInt:
                    parameters[i].UIntValue = (uint)(long)value;
                    break;
                case VirTypedParameterType.LLong:
                    parameters[i].LongValue = (long)value;
                    break;
                case VirTypedParameterType.ULLong:
                    parameters[i].ULongValue = (ulong)(long)value;
                    break;
                case VirTypedParameterType.Double:
                    parameters[i].DoubleValue = (double)value;
                    break;
                case VirTypedParameterType.Boolean:
                    parameters[i].BooleanValue = (byte)(long)value;
                    break;
                case VirTypedParameterType.String:
                    var text = Marshal.StringToCoTaskMemUTF8((string)value);
                    _strings.Add(text);
                    parameters[i].StringValue = (byte*)text;
                    break;
            }
        }

        return new NativeParameters(block, fields.Length);
    }

    private readonly record struct NativeParameters(IntPtr Block, int Count)
    {
        public VirTypedParameter* Pointer => (VirTypedParameter*)Block;
    }
}
