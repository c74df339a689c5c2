using System.Runtime.InteropServices;

namespace VmProbe.Native;

/// <summary>
/// What read(2) of a group leader returns with PERF_FORMAT_GROUP|TOTAL_TIME_ENABLED|TOTAL_TIME_RUNNING|ID
/// (perf_event.h, "struct read_format"): this header, then <see cref="Count"/> <see cref="PerfGroupReadValue"/>s.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PerfGroupReadHeader
{
    /// <summary>u64 nr: values that follow.</summary>
    public ulong Count;
    public ulong TimeEnabled;
    public ulong TimeRunning;
}

/// <summary>One event's entry after <see cref="PerfGroupReadHeader"/>: { u64 value; u64 id; }.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PerfGroupReadValue
{
    public ulong Value;
    public ulong Id;
}
