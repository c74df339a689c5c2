using System.Buffers.Binary;
using System.Text;
using VmProbe.Kvm;

namespace VmProbe.Tests.Kvm;

/// <summary>
/// Builds a KVM binary statistics blob byte by byte to the layout of Documentation/virt/kvm/api.rst (KVM_GET_STATS_FD):
/// header (flags, name_size, num_desc, id_offset, desc_offset, data_offset: u32 each), id, descriptors (flags u32,
/// exponent s16, size u16, offset u32, bucket_size u32, name[name_size]), data (u64 values). Fields can be overridden to lie.
/// </summary>
internal sealed class KvmStatsFixture
{
    // KVM_STATS_TYPE_*, KVM_STATS_UNIT_* (<< 4), KVM_STATS_BASE_* (<< 8) of include/uapi/linux/kvm.h.
    public const uint Cumulative = 0, Instant = 1, Peak = 2, LinearHist = 3, LogHist = 4;
    public const uint UnitNone = 0 << 4, UnitBytes = 1 << 4, UnitSeconds = 2 << 4, UnitCycles = 3 << 4, UnitBoolean = 4 << 4;
    public const uint BasePow10 = 0 << 8, BasePow2 = 1 << 8;

    private readonly List<(uint Flags, short Exponent, ushort Size, uint BucketSize, string Name, ulong[] Values, uint? Offset)> _stats = new();

    public uint NameSize { get; set; } = 48;

    public string Id { get; set; } = "kvm-4242/vcpu-0";

    public uint? NumDescOverride { get; set; }

    public uint? IdOffsetOverride { get; set; }

    public uint? DescOffsetOverride { get; set; }

    public uint? DataOffsetOverride { get; set; }

    /// <summary>Writes names without a NUL terminator (exactly name_size bytes).</summary>
    public bool UnterminatedNames { get; set; }

    public KvmStatsFixture Stat(string name, uint flags, short exponent, params ulong[] values) =>
        Add(name, flags, exponent, (ushort)values.Length, 0, values);

    public KvmStatsFixture Add(string name, uint flags, short exponent, ushort size, uint bucketSize, ulong[] values, uint? offset = null)
    {
        _stats.Add((flags, exponent, size, bucketSize, name, values, offset));
        return this;
    }

    /// <summary>A vCPU stats fd shaped like an x86 host's (Linux 6.x): counters, ns times, a boolean, a peak, log histograms.</summary>
    public static KvmStatsFixture X86Vcpu(int vcpu, ulong seed = 1)
    {
        var f = new KvmStatsFixture { Id = $"kvm-4242/vcpu-{vcpu}" };
        f.Stat("halt_successful_poll", Cumulative, 0, 10 * seed)
            .Stat("halt_attempted_poll", Cumulative, 0, 20 * seed)
            .Stat("halt_poll_invalid", Cumulative, 0, 0)
            .Stat("halt_wakeup", Cumulative, 0, 30 * seed)
            .Stat("halt_poll_success_ns", Cumulative | UnitSeconds | BasePow10, -9, 1_500_000_000 * seed)
            .Stat("halt_poll_fail_ns", Cumulative | UnitSeconds | BasePow10, -9, 500 * seed)
            .Stat("halt_wait_ns", Cumulative | UnitSeconds | BasePow10, -9, 2_000_000_000 * seed)
            .Add("halt_poll_success_hist", LogHist | UnitSeconds | BasePow10, -9, 32, 0, Buckets(32, seed))
            .Add("halt_poll_fail_hist", LogHist | UnitSeconds | BasePow10, -9, 32, 0, Buckets(32, seed))
            .Add("halt_wait_hist", LogHist | UnitSeconds | BasePow10, -9, 32, 0, Buckets(32, seed))
            .Stat("blocking", Instant | UnitBoolean, 0, seed % 2)
            .Stat("exits", Cumulative, 0, 1000 * seed)
            .Stat("io_exits", Cumulative, 0, 100 * seed)
            .Stat("irq_injections", Cumulative, 0, 40 * seed)
            .Stat("nmi_injections", Cumulative, 0, 1)
            .Stat("pf_taken", Cumulative, 0, 7 * seed)
            .Stat("tlb_flush", Cumulative, 0, 3 * seed)
            .Stat("guest_mode", Instant, 0, 0)
            .Stat("notify_window_exits", Cumulative, 0, 0);
        return f;
    }

    public static ulong[] Buckets(int n, ulong seed)
    {
        var values = new ulong[n];
        for (var i = 0; i < n; i++)
        {
            values[i] = i < 12 ? (ulong)(i + 1) * seed : 0;
        }

        return values;
    }

    public byte[] Build()
    {
        const int header = 24;
        var stride = 16 + (int)NameSize;
        var idOffset = header;
        var descOffset = idOffset + (int)NameSize;
        var dataOffset = descOffset + (stride * _stats.Count);
        var offsets = new uint[_stats.Count];
        var next = 0u;
        for (var i = 0; i < _stats.Count; i++)
        {
            offsets[i] = _stats[i].Offset ?? next;
            next = Math.Max(next, offsets[i] + (uint)(8 * _stats[i].Values.Length));
        }

        var blob = new byte[dataOffset + next];
        var span = blob.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], NameSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], NumDescOverride ?? (uint)_stats.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], IdOffsetOverride ?? (uint)idOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], DescOffsetOverride ?? (uint)descOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], DataOffsetOverride ?? (uint)dataOffset);
        WriteName(span.Slice(idOffset, (int)NameSize), Id);
        for (var i = 0; i < _stats.Count; i++)
        {
            var (flags, exponent, size, bucketSize, name, values, _) = _stats[i];
            var d = span.Slice(descOffset + (i * stride), stride);
            BinaryPrimitives.WriteUInt32LittleEndian(d, flags);
            BinaryPrimitives.WriteInt16LittleEndian(d[4..], exponent);
            BinaryPrimitives.WriteUInt16LittleEndian(d[6..], size);
            BinaryPrimitives.WriteUInt32LittleEndian(d[8..], offsets[i]);
            BinaryPrimitives.WriteUInt32LittleEndian(d[12..], bucketSize);
            WriteName(d[16..], name);
            for (var v = 0; v < values.Length; v++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(span[(dataOffset + (int)offsets[i] + (8 * v))..], values[v]);
            }
        }

        return blob;
    }

    private void WriteName(Span<byte> field, string name)
    {
        field.Fill(UnterminatedNames ? (byte)'x' : (byte)0);
        var bytes = Encoding.UTF8.GetBytes(name);
        bytes.AsSpan(0, Math.Min(bytes.Length, field.Length - (UnterminatedNames ? 0 : 1))).CopyTo(field);
    }

    /// <summary>
    /// Parses with the source's layout parser and decodes every value on its own (little-endian u64s at each
    /// descriptor's offset), an independent reading to compare the source's stats-fd read with.
    /// </summary>
    public static KvmStatsSnapshot Read(byte[] blob, string target = "fixture")
    {
        var layout = KvmStatsLayout.Parse(blob, target);
        var data = blob.AsSpan(layout.DataOffset, layout.DataLength);
        var readings = new List<KvmStatReading>();
        foreach (var d in layout.Descriptors)
        {
            var values = new ulong[d.Size];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(data[(d.Offset + (i * 8))..]);
            }

            readings.Add(new KvmStatReading(d, values));
        }

        return new KvmStatsSnapshot(layout.VcpuIndex, readings);
    }
}
