using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VmProbe.Bpf;
using VmProbe.Native;
using Xunit;

namespace VmProbe.Tests.Bpf;

/// <summary>The C# mirrors of the C structs in programs/agg.h and kvm_exits.bpf.c, against the C and the loaded maps.</summary>
public class BpfLayoutTests
{
    [Fact]
    public unsafe void StructsMatchTheCDeclarations()
    {
        Assert.Equal(16, sizeof(AggCountKey)); // u32 tgid, tid, f1, f2
        Assert.Equal(12, Offset<AggCountKey>(nameof(AggCountKey.F2)));
        Assert.Equal(8, sizeof(AggHistKey));
        Assert.Equal(4, Offset<AggHistKey>(nameof(AggHistKey.Field)));
        Assert.Equal(272, sizeof(AggHist)); // u64 buckets[32]; u64 sum_ns; u64 count
        Assert.Equal(256, Offset<AggHist>(nameof(AggHist.SumNs)));
        Assert.Equal(264, Offset<AggHist>(nameof(AggHist.Count)));
        Assert.Equal(16, sizeof(AggPending)); // u64 start_ns; u32 tgid; u32 field
        Assert.Equal(12, Offset<AggPending>(nameof(AggPending.Field)));
        Assert.Equal(12, sizeof(KvmEventKey));
        Assert.Equal(ThreadCountRecord.Size, sizeof(ThreadCountRecord)); // struct ts_record: agg_count_key + u64 count
        Assert.Equal(16, Offset<ThreadCountRecord>(nameof(ThreadCountRecord.Count)));
        Assert.Equal(16, sizeof(BpfObjectOpenOptions)); // size_t sz; const char *object_name
        Assert.Equal(80, sizeof(BpfTestRunOptions)); // bpf.h (libbpf 1.1), batch_size its last field
        Assert.Equal(32, Offset<BpfTestRunOptions>(nameof(BpfTestRunOptions.ContextIn)));
        Assert.Equal(48, Offset<BpfTestRunOptions>(nameof(BpfTestRunOptions.ContextSizeIn)));
        Assert.Equal(56, Offset<BpfTestRunOptions>(nameof(BpfTestRunOptions.ReturnValue)));
        Assert.Equal(76, Offset<BpfTestRunOptions>(nameof(BpfTestRunOptions.BatchSize)));
    }

    [SkippableFact]
    public unsafe void StructsMatchTheMapsOfTheLoadedObjects()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        using var obj = BpfObject.Load("kvm_exits", BpfObject.LoadEmbedded("kvm_exits"), new Dictionary<string, uint> { ["counts"] = 1024 });
        AssertMap(obj.Map("counts"), sizeof(AggCountKey), sizeof(ulong));
        AssertMap(obj.Map("latency"), sizeof(AggHistKey), sizeof(AggHist));
        AssertMap(obj.Map("pending"), sizeof(uint), sizeof(AggPending));
        AssertMap(obj.Map("threads"), sizeof(uint), sizeof(uint));
        AssertMap(obj.Map("events"), sizeof(KvmEventKey), sizeof(ulong));
        AssertMap(obj.Map("wakeup_ns"), sizeof(AggHistKey), sizeof(AggHist));
        AssertMap(obj.Map(ThreadCounts.StorageMap), sizeof(int), 24 + (256 + 16) * sizeof(ulong)); // ts_block: header + TS_SLOTS u64
        AssertMap(obj.Map(ChangeCount.MapName), sizeof(uint), sizeof(ulong)); // [0] the programs' count, [1] user space's
        Assert.Equal(2u, obj.Map(ChangeCount.MapName).MaxEntries);
        Assert.Equal(1024u, obj.Map("counts").MaxEntries);
        Assert.Equal(32768u, obj.Map("latency").MaxEntries); // agg.h's default when not resized
    }

    private static void AssertMap(BpfMap map, int key, int value)
    {
        Assert.True(map.KeySize == key, $"{map.Name}: key {map.KeySize} bytes in C, {key} in C#");
        Assert.True(map.ValueSize == value, $"{map.Name}: value {map.ValueSize} bytes in C, {value} in C#");
    }

    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);
}
