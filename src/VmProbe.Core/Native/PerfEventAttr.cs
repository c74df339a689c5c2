using System.Runtime.InteropServices;

namespace VmProbe.Native;

/// <summary>
/// struct perf_event_attr from include/uapi/linux/perf_event.h, PERF_ATTR_SIZE_VER8 (136 bytes, kernel 6.3+ adds config3).
/// Older kernels accept it as long as the bytes past their own size are zero. The C bit fields are one <see cref="Flags"/> word
/// (bits in <see cref="PerfAttrFlags"/>); unions are represented by their first or most useful member.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = SizeVer8)]
internal struct PerfEventAttr
{
    public const int SizeVer8 = 136;

    [FieldOffset(0)] public uint Type;
    [FieldOffset(4)] public uint Size;
    [FieldOffset(8)] public ulong Config;

    /// <summary>Union sample_period / sample_freq.</summary>
    [FieldOffset(16)] public ulong SamplePeriod;
    [FieldOffset(24)] public ulong SampleType;
    [FieldOffset(32)] public ulong ReadFormat;
    [FieldOffset(40)] public ulong Flags;

    /// <summary>Union wakeup_events / wakeup_watermark.</summary>
    [FieldOffset(48)] public uint WakeupEvents;
    [FieldOffset(52)] public uint BpType;

    /// <summary>Union bp_addr / kprobe_func / uprobe_path / config1.</summary>
    [FieldOffset(56)] public ulong Config1;

    /// <summary>Union bp_len / kprobe_addr / probe_offset / config2.</summary>
    [FieldOffset(64)] public ulong Config2;
    [FieldOffset(72)] public ulong BranchSampleType;
    [FieldOffset(80)] public ulong SampleRegsUser;
    [FieldOffset(88)] public uint SampleStackUser;
    [FieldOffset(92)] public int ClockId;
    [FieldOffset(96)] public ulong SampleRegsIntr;
    [FieldOffset(104)] public uint AuxWatermark;
    [FieldOffset(108)] public ushort SampleMaxStack;
    [FieldOffset(110)] public ushort Reserved2;
    [FieldOffset(112)] public uint AuxSampleSize;
    [FieldOffset(116)] public uint Reserved3;
    [FieldOffset(120)] public ulong SigData;
    [FieldOffset(128)] public ulong Config3;
}

/// <summary>Bits of perf_event_attr's bit-field word (offset 40), in the header's declaration order.</summary>
internal static class PerfAttrFlags
{
    public const ulong Disabled = 1UL << 0;
    public const ulong Inherit = 1UL << 1;
    public const ulong Pinned = 1UL << 2;
    public const ulong Exclusive = 1UL << 3;
    public const ulong ExcludeUser = 1UL << 4;
    public const ulong ExcludeKernel = 1UL << 5;
    public const ulong ExcludeHv = 1UL << 6;
    public const ulong ExcludeIdle = 1UL << 7;
    public const ulong Mmap = 1UL << 8;
    public const ulong Comm = 1UL << 9;
    public const ulong Freq = 1UL << 10;
    public const ulong InheritStat = 1UL << 11;
    public const ulong EnableOnExec = 1UL << 12;
    public const ulong Task = 1UL << 13;
    public const ulong Watermark = 1UL << 14;

    /// <summary>precise_ip is two bits (15-16).</summary>
    public const int PreciseIpShift = 15;
    public const ulong MmapData = 1UL << 17;
    public const ulong SampleIdAll = 1UL << 18;
    public const ulong ExcludeHost = 1UL << 19;
    public const ulong ExcludeGuest = 1UL << 20;
    public const ulong ExcludeCallchainKernel = 1UL << 21;
    public const ulong ExcludeCallchainUser = 1UL << 22;
    public const ulong Mmap2 = 1UL << 23;
    public const ulong CommExec = 1UL << 24;
    public const ulong UseClockId = 1UL << 25;
    public const ulong ContextSwitch = 1UL << 26;
    public const ulong WriteBackward = 1UL << 27;
    public const ulong Namespaces = 1UL << 28;
    public const ulong Ksymbol = 1UL << 29;
    public const ulong BpfEvent = 1UL << 30;
    public const ulong AuxOutput = 1UL << 31;
    public const ulong Cgroup = 1UL << 32;
    public const ulong TextPoke = 1UL << 33;
    public const ulong BuildId = 1UL << 34;
    public const ulong InheritThread = 1UL << 35;
    public const ulong RemoveOnExec = 1UL << 36;
    public const ulong Sigtrap = 1UL << 37;
}
