using System.Buffers.Binary;
using System.Text;

namespace VmProbe.Kvm;

/// <summary>KVM_STATS_TYPE_* (bits 0-3 of a descriptor's flags).</summary>
internal enum KvmStatType
{
    Cumulative = 0,
    Instant = 1,
    Peak = 2,
    LinearHistogram = 3,
    LogHistogram = 4,
}

/// <summary>KVM_STATS_UNIT_* (bits 4-7); Boolean since Linux 6.0.</summary>
internal enum KvmStatUnit
{
    None = 0,
    Bytes = 1,
    Seconds = 2,
    Cycles = 3,
    Boolean = 4,
}

/// <summary>KVM_STATS_BASE_* (bits 8-11): the exponent's base.</summary>
internal enum KvmStatBase
{
    Pow10 = 0,
    Pow2 = 1,
}

/// <summary>One statistic a stats fd describes (struct kvm_stats_desc), with where its u64 values sit in the data block.</summary>
internal sealed record KvmStatDescriptor(
    string Name, KvmStatType Type, KvmStatUnit Unit, KvmStatBase Base, short Exponent, int Size, int Offset, uint BucketSize)
{
    /// <summary>The factor from the raw value to the unit (base^exponent): 1e-9 for nanoseconds.</summary>
    public double Scale => Base == KvmStatBase.Pow2 ? Math.Pow(2, Exponent) : Math.Pow(10, Exponent);

    /// <summary><paramref name="raw"/> in the unit: divided by base^-exponent for a negative exponent, so that
    /// 3 ns is exactly 3E-09 s (a multiplication by 1e-9 would round to 3.0000000000000004E-09).</summary>
    public double ToUnit(double raw) =>
        Exponent >= 0 ? raw * Scale : raw / (Base == KvmStatBase.Pow2 ? Math.Pow(2, -Exponent) : Math.Pow(10, -Exponent));

    public bool IsHistogram => Type is KvmStatType.LinearHistogram or KvmStatType.LogHistogram;

    /// <summary>Whether values of <paramref name="other"/> can be summed into this statistic's (same type, size, buckets, unit and scale).</summary>
    public bool SameShapeAs(KvmStatDescriptor other) =>
        Type == other.Type && Size == other.Size && BucketSize == other.BucketSize && Unit == other.Unit
        && Exponent == other.Exponent && Base == other.Base;
}

/// <summary>
/// The layout of a KVM binary statistics fd (KVM_GET_STATS_FD, Documentation/virt/kvm/api.rst): a header
/// (flags, name_size, num_desc, id_offset, desc_offset, data_offset: six u32), the id string (name_size bytes,
/// NUL-terminated), num_desc descriptors (flags u32, exponent s16, size u16, offset u32, bucket_size u32, then name_size
/// bytes of NUL-terminated name) and the data block of u64 values. The header, id and descriptors never change for
/// the life of an fd, so they are parsed once; each cycle reads only the data block (<see cref="DataOffset"/>,
/// <see cref="DataLength"/>).
/// </summary>
/// <remarks>
/// Defensive: every offset and size is checked against the bytes read in 64-bit arithmetic before use, a name must end
/// with a NUL inside its field, and a descriptor whose type, unit or base this probe does not know (a newer kernel) is
/// skipped and named in <see cref="Skipped"/>, never guessed at. A blob that lies is a <see cref="KvmStatsException"/>.
/// </remarks>
internal sealed class KvmStatsLayout
{
    internal const int HeaderSize = 24;
    internal const int DescriptorFixedSize = 16;

    // Far above any kernel's (name_size is KVM_STATS_NAME_SIZE = 48, x86 has < 100 vCPU stats).
    internal const int MaxNameSize = 4096;
    internal const int MaxDescriptors = 65536;
    internal const int MaxHistogramBuckets = 4096;

    private KvmStatsLayout(string id, KvmStatDescriptor[] descriptors, string[] skipped, int dataOffset, int dataLength)
    {
        Id = id;
        Descriptors = descriptors;
        Skipped = skipped;
        DataOffset = dataOffset;
        DataLength = dataLength;
    }

    /// <summary>The fd's id string: <c>kvm-PID</c> for a VM, <c>kvm-PID/vcpu-N</c> for a vCPU.</summary>
    public string Id { get; }

    /// <summary>The statistics this probe understands, in the fd's order.</summary>
    public IReadOnlyList<KvmStatDescriptor> Descriptors { get; }

    /// <summary>Descriptors left out, each as <c>name (reason)</c>: an unknown type, unit or base, or a duplicate name.</summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <summary>File offset of the data block.</summary>
    public int DataOffset { get; }

    /// <summary>Bytes of the data block the descriptors use (from <see cref="DataOffset"/>).</summary>
    public int DataLength { get; }

    /// <summary>The vCPU index of a vCPU stats fd (the id's <c>/vcpu-N</c>), or null for a VM's.</summary>
    public int? VcpuIndex
    {
        get
        {
            var at = Id.LastIndexOf("/vcpu-", StringComparison.Ordinal);
            return at >= 0 && int.TryParse(Id.AsSpan(at + 6), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : null;
        }
    }

    /// <summary>Parses a whole stats file (from offset 0, as pread returns it).</summary>
    /// <param name="content">The bytes read; at least up to the end of the data block.</param>
    /// <param name="target">Names the fd in errors.</param>
    /// <exception cref="KvmStatsException">The content breaks the layout.</exception>
    public static KvmStatsLayout Parse(ReadOnlySpan<byte> content, string target)
    {
        if (content.Length < HeaderSize)
        {
            throw KvmStatsException.Format(target, "truncated", $"{content.Length} bytes, fewer than the {HeaderSize}-byte header");
        }

        var nameSize = BinaryPrimitives.ReadUInt32LittleEndian(content[4..]);
        var count = BinaryPrimitives.ReadUInt32LittleEndian(content[8..]);
        var idOffset = BinaryPrimitives.ReadUInt32LittleEndian(content[12..]);
        var descOffset = BinaryPrimitives.ReadUInt32LittleEndian(content[16..]);
        var dataOffset = BinaryPrimitives.ReadUInt32LittleEndian(content[20..]);
        if (nameSize == 0 || nameSize > MaxNameSize)
        {
            throw KvmStatsException.Format(target, "name", $"name_size {nameSize} is outside 1..{MaxNameSize}");
        }

        if (count > MaxDescriptors)
        {
            throw KvmStatsException.Format(target, "size", $"num_desc {count} is above {MaxDescriptors}");
        }

        long length = content.Length;
        CheckRange(target, "id", idOffset, nameSize, length);
        var stride = DescriptorFixedSize + (long)nameSize;
        CheckRange(target, "descriptors", descOffset, stride * count, length);
        if (dataOffset < HeaderSize || dataOffset > length)
        {
            throw KvmStatsException.Format(target, "offset", $"data_offset {dataOffset} is outside the {length} bytes read");
        }

        var id = ReadName(content.Slice((int)idOffset, (int)nameSize), target, "the id");
        var descriptors = new List<KvmStatDescriptor>((int)count);
        var skipped = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        long dataEnd = 0;
        for (var i = 0; i < count; i++)
        {
            var raw = content.Slice((int)(descOffset + (i * stride)), (int)stride);
            var flags = BinaryPrimitives.ReadUInt32LittleEndian(raw);
            var exponent = BinaryPrimitives.ReadInt16LittleEndian(raw[4..]);
            var size = BinaryPrimitives.ReadUInt16LittleEndian(raw[6..]);
            var offset = BinaryPrimitives.ReadUInt32LittleEndian(raw[8..]);
            var bucketSize = BinaryPrimitives.ReadUInt32LittleEndian(raw[12..]);
            var name = ReadName(raw[DescriptorFixedSize..], target, $"descriptor {i}'s name");
            if (name.Length == 0)
            {
                throw KvmStatsException.Format(target, "name", $"descriptor {i} has an empty name");
            }

            var type = flags & 0xF;
            var unit = (flags >> 4) & 0xF;
            var @base = (flags >> 8) & 0xF;
            string? reason =
                type > (uint)KvmStatType.LogHistogram ? $"type {type}" :
                unit > (uint)KvmStatUnit.Boolean ? $"unit {unit}" :
                @base > (uint)KvmStatBase.Pow2 ? $"base {@base}" :
                (flags >> 12) != 0 ? $"flags 0x{flags:x}" : null;
            var histogram = type is (uint)KvmStatType.LinearHistogram or (uint)KvmStatType.LogHistogram;
            if (reason is null && size == 0)
            {
                reason = "size 0";
            }
            else if (reason is null && histogram && (size < 2 || size > MaxHistogramBuckets))
            {
                reason = $"{size} buckets";
            }
            else if (reason is null && !histogram && size != 1)
            {
                reason = $"size {size} for a scalar";
            }
            else if (reason is null && type == (uint)KvmStatType.LinearHistogram && bucketSize == 0)
            {
                reason = "bucket_size 0";
            }

            // The values must lie in the data block, and the data block in what was read: a lie here is the whole blob's fault.
            var end = (long)offset + (8L * size);
            if (end > length - dataOffset)
            {
                throw KvmStatsException.Format(target, "offset", $"descriptor {i} ({name}) has values at data+{offset}..{end}, past the {length - dataOffset} data bytes read");
            }

            if (reason is null && !names.Add(name))
            {
                reason = "duplicate name";
            }

            if (reason is not null)
            {
                skipped.Add($"{name} ({reason})");
                continue;
            }

            dataEnd = Math.Max(dataEnd, end);
            descriptors.Add(new KvmStatDescriptor(name, (KvmStatType)type, (KvmStatUnit)unit, (KvmStatBase)@base, exponent, size, (int)offset, bucketSize));
        }

        return new KvmStatsLayout(id, descriptors.ToArray(), skipped.ToArray(), (int)dataOffset, (int)dataEnd);
    }

    private static void CheckRange(string target, string what, long offset, long size, long length)
    {
        if (offset < HeaderSize && size > 0)
        {
            throw KvmStatsException.Format(target, "offset", $"the {what} at {offset} overlaps the header");
        }

        if (offset + size > length)
        {
            throw KvmStatsException.Format(target, "offset", $"the {what} at {offset}..{offset + size} run past the {length} bytes read");
        }
    }

    private static string ReadName(ReadOnlySpan<byte> field, string target, string what)
    {
        var end = field.IndexOf((byte)0);
        if (end < 0)
        {
            throw KvmStatsException.Format(target, "name", $"{what} has no NUL terminator within name_size");
        }

        return Encoding.UTF8.GetString(field[..end]);
    }
}
