using System.Buffers.Text;
using System.Runtime.InteropServices;
using VmProbe.Native;

namespace VmProbe.Libvirt;

/// <summary>
/// Decodes a record's virTypedParameter array into <see cref="DomainStats"/> by matching field names as UTF-8 bytes,
/// so the hot path creates no per-field strings (only NIC/disk names). Values are read by their type field;
/// unknown fields are ignored (kept in <see cref="DomainStats.Raw"/> when asked).
/// </summary>
internal static unsafe class DomainStatsDecoder
{
    public static void Decode(VirTypedParameter* parameters, int count, DomainStats target, bool includeRaw)
    {
        if (includeRaw)
        {
            target.Raw = new Dictionary<string, object>(count, StringComparer.Ordinal);
        }

        for (var i = 0; i < count; i++)
        {
            var parameter = parameters + i;
            var name = FieldName(parameter);
            if (includeRaw)
            {
                target.Raw![System.Text.Encoding.UTF8.GetString(name)] = RawValue(parameter);
            }

            DecodeField(name, parameter, target);
        }
    }

    /// <summary>The NUL-terminated field[80] as a span (never longer than 80 bytes even if unterminated).</summary>
    internal static ReadOnlySpan<byte> FieldName(VirTypedParameter* parameter)
    {
        var field = new ReadOnlySpan<byte>(parameter->Field, VirTypedParameter.FieldLength);
        var end = field.IndexOf((byte)0);
        return end < 0 ? field : field[..end];
    }

    private static void DecodeField(ReadOnlySpan<byte> name, VirTypedParameter* p, DomainStats s)
    {
        if (name.StartsWith("state."u8))
        {
            var rest = name["state."u8.Length..];
            if (rest.SequenceEqual("state"u8))
            {
                s.State = (VmDomainState)(int)AsUInt64(p);
            }
            else if (rest.SequenceEqual("reason"u8))
            {
                s.StateReason = (int)AsUInt64(p);
            }
        }
        else if (name.StartsWith("cpu."u8))
        {
            var rest = name["cpu."u8.Length..];
            if (rest.SequenceEqual("time"u8))
            {
                s.CpuTimeNs = AsUInt64(p);
            }
            else if (rest.SequenceEqual("user"u8))
            {
                s.CpuUserNs = AsUInt64(p);
            }
            else if (rest.SequenceEqual("system"u8))
            {
                s.CpuSystemNs = AsUInt64(p);
            }
            else if (rest.SequenceEqual("haltpoll.success.time"u8))
            {
                s.HaltPollSuccessNs = AsUInt64(p);
            }
            else if (rest.SequenceEqual("haltpoll.fail.time"u8))
            {
                s.HaltPollFailNs = AsUInt64(p);
            }
        }
        else if (name.StartsWith("balloon."u8))
        {
            DecodeBalloon(name["balloon."u8.Length..], p, s.Balloon);
        }
        else if (name.StartsWith("vcpu."u8))
        {
            DecodeVcpu(name["vcpu."u8.Length..], p, s);
        }
        else if (name.StartsWith("net."u8))
        {
            DecodeNet(name["net."u8.Length..], p, s);
        }
        else if (name.StartsWith("block."u8))
        {
            DecodeBlock(name["block."u8.Length..], p, s);
        }
        else if (name.StartsWith("vm."u8))
        {
            DecodeHypervisorStat(name["vm."u8.Length..], null, p, s);
        }
    }

    /// <summary>
    /// <c>NAME.TYPE</c> of <c>vm.NAME.TYPE</c> or <c>vcpu.N.NAME.TYPE</c>: TYPE is cur, sum or max, the value an unsigned
    /// long long or a boolean (libvirt's documented forms); anything else (a histogram of a later libvirt, a string) is
    /// left out rather than guessed at.
    /// </summary>
    private static void DecodeHypervisorStat(ReadOnlySpan<byte> rest, int? vcpu, VirTypedParameter* p, DomainStats s)
    {
        var dot = rest.LastIndexOf((byte)'.');
        if (dot <= 0 || p->Type is not (VirTypedParameterType.ULLong or VirTypedParameterType.UInt or VirTypedParameterType.Boolean))
        {
            return;
        }

        var suffix = rest[(dot + 1)..];
        HypervisorStatKind kind;
        if (suffix.SequenceEqual("cur"u8)) kind = HypervisorStatKind.Current;
        else if (suffix.SequenceEqual("sum"u8)) kind = HypervisorStatKind.Sum;
        else if (suffix.SequenceEqual("max"u8)) kind = HypervisorStatKind.Max;
        else return;

        var name = rest[..dot];
        if (name.IndexOf((byte)'.') >= 0)
        {
            return; // KVM's names have no dots: this is no NAME.TYPE field
        }

        s.HypervisorStats.Add(new HypervisorStat(vcpu, System.Text.Encoding.UTF8.GetString(name), kind, AsUInt64(p)));
    }

    private static void DecodeBalloon(ReadOnlySpan<byte> rest, VirTypedParameter* p, BalloonStats b)
    {
        var value = AsUInt64(p);
        if (rest.SequenceEqual("current"u8)) b.CurrentKiB = value;
        else if (rest.SequenceEqual("maximum"u8)) b.MaximumKiB = value;
        else if (rest.SequenceEqual("rss"u8)) b.RssKiB = value;
        else if (rest.SequenceEqual("unused"u8)) b.UnusedKiB = value;
        else if (rest.SequenceEqual("available"u8)) b.AvailableKiB = value;
        else if (rest.SequenceEqual("usable"u8)) b.UsableKiB = value;
        else if (rest.SequenceEqual("swap_in"u8)) b.SwapInKiB = value;
        else if (rest.SequenceEqual("swap_out"u8)) b.SwapOutKiB = value;
        else if (rest.SequenceEqual("major_fault"u8)) b.MajorFaults = value;
        else if (rest.SequenceEqual("minor_fault"u8)) b.MinorFaults = value;
        else if (rest.SequenceEqual("disk_caches"u8)) b.DiskCachesKiB = value;
        else if (rest.SequenceEqual("last-update"u8)) b.LastUpdate = value;
    }

    private static void DecodeVcpu(ReadOnlySpan<byte> rest, VirTypedParameter* p, DomainStats s)
    {
        if (rest.SequenceEqual("current"u8))
        {
            s.VcpuCurrent = (int)AsUInt64(p);
            return;
        }

        if (rest.SequenceEqual("maximum"u8))
        {
            s.VcpuMaximum = (int)AsUInt64(p);
            return;
        }

        if (!TrySplitIndex(rest, out var index, out var field))
        {
            return;
        }

        if (field.IndexOf((byte)'.') > 0)
        {
            DecodeHypervisorStat(field, index, p, s);
            return;
        }

        var vcpu = GetOrAdd(s.Vcpus, index, static i => new VcpuStats { Index = i }, static v => v.Index);
        if (field.SequenceEqual("state"u8)) vcpu.State = (int)AsUInt64(p);
        else if (field.SequenceEqual("time"u8)) vcpu.TimeNs = AsUInt64(p);
        else if (field.SequenceEqual("wait"u8)) vcpu.WaitNs = AsUInt64(p);
        else if (field.SequenceEqual("delay"u8)) vcpu.DelayNs = AsUInt64(p);
        else if (field.SequenceEqual("halted"u8)) vcpu.Halted = AsUInt64(p) != 0;
    }

    private static void DecodeNet(ReadOnlySpan<byte> rest, VirTypedParameter* p, DomainStats s)
    {
        if (rest.SequenceEqual("count"u8))
        {
            s.NetCount = (int)AsUInt64(p);
            return;
        }

        if (!TrySplitIndex(rest, out var index, out var field))
        {
            return;
        }

        var net = GetOrAdd(s.Interfaces, index, static i => new InterfaceStats { Index = i }, static n => n.Index);
        if (field.SequenceEqual("name"u8)) net.Name = AsString(p);
        else if (field.SequenceEqual("rx.bytes"u8)) net.RxBytes = AsUInt64(p);
        else if (field.SequenceEqual("rx.pkts"u8)) net.RxPackets = AsUInt64(p);
        else if (field.SequenceEqual("rx.errs"u8)) net.RxErrors = AsUInt64(p);
        else if (field.SequenceEqual("rx.drop"u8)) net.RxDrops = AsUInt64(p);
        else if (field.SequenceEqual("tx.bytes"u8)) net.TxBytes = AsUInt64(p);
        else if (field.SequenceEqual("tx.pkts"u8)) net.TxPackets = AsUInt64(p);
        else if (field.SequenceEqual("tx.errs"u8)) net.TxErrors = AsUInt64(p);
        else if (field.SequenceEqual("tx.drop"u8)) net.TxDrops = AsUInt64(p);
    }

    private static void DecodeBlock(ReadOnlySpan<byte> rest, VirTypedParameter* p, DomainStats s)
    {
        if (rest.SequenceEqual("count"u8))
        {
            s.BlockCount = (int)AsUInt64(p);
            return;
        }

        if (!TrySplitIndex(rest, out var index, out var field))
        {
            return;
        }

        var block = GetOrAdd(s.Blocks, index, static i => new BlockStats { Index = i }, static b => b.Index);
        if (field.SequenceEqual("name"u8)) block.Name = AsString(p);
        else if (field.SequenceEqual("path"u8)) block.Path = AsString(p);
        else if (field.SequenceEqual("rd.reqs"u8)) block.ReadRequests = AsUInt64(p);
        else if (field.SequenceEqual("rd.bytes"u8)) block.ReadBytes = AsUInt64(p);
        else if (field.SequenceEqual("rd.times"u8)) block.ReadTimeNs = AsUInt64(p);
        else if (field.SequenceEqual("wr.reqs"u8)) block.WriteRequests = AsUInt64(p);
        else if (field.SequenceEqual("wr.bytes"u8)) block.WriteBytes = AsUInt64(p);
        else if (field.SequenceEqual("wr.times"u8)) block.WriteTimeNs = AsUInt64(p);
        else if (field.SequenceEqual("fl.reqs"u8)) block.FlushRequests = AsUInt64(p);
        else if (field.SequenceEqual("fl.times"u8)) block.FlushTimeNs = AsUInt64(p);
        else if (field.SequenceEqual("allocation"u8)) block.AllocationBytes = AsUInt64(p);
        else if (field.SequenceEqual("capacity"u8)) block.CapacityBytes = AsUInt64(p);
        else if (field.SequenceEqual("physical"u8)) block.PhysicalBytes = AsUInt64(p);
    }

    /// <summary>Splits <c>12.rx.bytes</c> into 12 and <c>rx.bytes</c>.</summary>
    private static bool TrySplitIndex(ReadOnlySpan<byte> rest, out int index, out ReadOnlySpan<byte> field)
    {
        field = default;
        if (!Utf8Parser.TryParse(rest, out index, out var consumed) || index < 0 || consumed >= rest.Length || rest[consumed] != (byte)'.')
        {
            return false;
        }

        field = rest[(consumed + 1)..];
        return true;
    }

    /// <summary>Records arrive grouped by index in ascending order, so the last element is almost always the match.</summary>
    private static T GetOrAdd<T>(List<T> items, int index, Func<int, T> create, Func<T, int> indexOf)
    {
        for (var i = items.Count - 1; i >= 0; i--)
        {
            var existing = items[i];
            var existingIndex = indexOf(existing);
            if (existingIndex == index)
            {
                return existing;
            }

            if (existingIndex < index)
            {
                var inserted = create(index);
                items.Insert(i + 1, inserted);
                return inserted;
            }
        }

        var first = create(index);
        items.Insert(0, first);
        return first;
    }

    /// <summary>Any numeric type as unsigned (negative ints clamp to 0; doubles truncate).</summary>
    internal static ulong AsUInt64(VirTypedParameter* p) => p->Type switch
    {
        VirTypedParameterType.Int => p->IntValue < 0 ? 0UL : (ulong)p->IntValue,
        VirTypedParameterType.UInt => p->UIntValue,
        VirTypedParameterType.LLong => p->LongValue < 0 ? 0UL : (ulong)p->LongValue,
        VirTypedParameterType.ULLong => p->ULongValue,
        VirTypedParameterType.Double => p->DoubleValue <= 0 || double.IsNaN(p->DoubleValue) ? 0UL : (ulong)p->DoubleValue,
        VirTypedParameterType.Boolean => p->BooleanValue != 0 ? 1UL : 0UL,
        _ => 0UL,
    };

    private static string? AsString(VirTypedParameter* p) =>
        p->Type == VirTypedParameterType.String && p->StringValue is not null ? Marshal.PtrToStringUTF8((IntPtr)p->StringValue) : null;

    internal static object RawValue(VirTypedParameter* p) => p->Type switch
    {
        VirTypedParameterType.Int => p->IntValue,
        VirTypedParameterType.UInt => p->UIntValue,
        VirTypedParameterType.LLong => p->LongValue,
        VirTypedParameterType.ULLong => p->ULongValue,
        VirTypedParameterType.Double => p->DoubleValue,
        VirTypedParameterType.Boolean => p->BooleanValue != 0,
        VirTypedParameterType.String => AsString(p) ?? string.Empty,
        _ => $"<unknown type {(int)p->Type}>",
    };
}
