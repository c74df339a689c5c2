using System.Runtime.InteropServices;

namespace VmProbe.Native;

// Layouts from libvirt's public headers (LP64); LibvirtLayoutTests pins sizes and offsets.

/// <summary>virTypedParameter (libvirt-common.h): char field[80]; int type; union value — 96 bytes.</summary>
[StructLayout(LayoutKind.Explicit, Size = 96)]
internal unsafe struct VirTypedParameter
{
    public const int FieldLength = 80;

    [FieldOffset(0)]
    public fixed byte Field[FieldLength];

    [FieldOffset(80)]
    public VirTypedParameterType Type;

    [FieldOffset(88)]
    public int IntValue;

    [FieldOffset(88)]
    public uint UIntValue;

    [FieldOffset(88)]
    public long LongValue;

    [FieldOffset(88)]
    public ulong ULongValue;

    [FieldOffset(88)]
    public double DoubleValue;

    /// <summary>C <c>char b</c> in the union; libvirt stores 0 or 1.</summary>
    [FieldOffset(88)]
    public byte BooleanValue;

    [FieldOffset(88)]
    public byte* StringValue;
}

/// <summary>virTypedParameterType.</summary>
internal enum VirTypedParameterType
{
    Int = 1,
    UInt = 2,
    LLong = 3,
    ULLong = 4,
    Double = 5,
    Boolean = 6,
    String = 7,
}

/// <summary>virDomainStatsRecord (libvirt-domain.h): { virDomainPtr dom; virTypedParameterPtr params; int nparams; }.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VirDomainStatsRecord
{
    public IntPtr Domain;
    public VirTypedParameter* Params;
    public int ParamCount;
}

/// <summary>virDomainInfo: unsigned char state; unsigned long maxMem, memory (KiB); unsigned short nrVirtCpu; unsigned long long cpuTime (ns).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct VirDomainInfo
{
    public byte State;
    public nuint MaxMemKiB;
    public nuint MemoryKiB;
    public ushort VirtCpuCount;
    public ulong CpuTimeNs;
}

/// <summary>virVcpuInfo: unsigned int number; int state; unsigned long long cpuTime; int cpu.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct VirVcpuInfo
{
    public uint Number;
    public int State;
    public ulong CpuTimeNs;
    public int Cpu;
}

/// <summary>virError (virterror.h). Only code, domain, message and level are read; the rest are kept for layout.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VirError
{
    public int Code;
    public int Domain;
    public byte* Message;
    public int Level;
    public IntPtr Conn;
    public IntPtr Dom;
    public byte* Str1;
    public byte* Str2;
    public byte* Str3;
    public int Int1;
    public int Int2;
    public IntPtr Net;
}
