using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VmProbe.Native;
using Xunit;

namespace VmProbe.Tests.Libvirt;

/// <summary>
/// Sizes and offsets of every struct passed to or read from libvirt, against its public headers (x86_64 LP64):
/// virTypedParameter, virDomainStatsRecord, virDomainInfo, virVcpuInfo, virError.
/// </summary>
public class LibvirtLayoutTests
{
    [Fact]
    public void TypedParameterMatchesLibvirtCommonH()
    {
        // char field[VIR_TYPED_PARAM_FIELD_LENGTH=80]; int type; union { ... } value (8-byte aligned).
        Assert.Equal(96, Unsafe.SizeOf<VirTypedParameter>());
        Assert.Equal(0, (int)Marshal.OffsetOf<VirTypedParameter>(nameof(VirTypedParameter.Field)));
        Assert.Equal(80, (int)Marshal.OffsetOf<VirTypedParameter>(nameof(VirTypedParameter.Type)));
        Assert.Equal(88, (int)Marshal.OffsetOf<VirTypedParameter>(nameof(VirTypedParameter.ULongValue)));
        Assert.Equal(88, (int)Marshal.OffsetOf<VirTypedParameter>(nameof(VirTypedParameter.DoubleValue)));
        Assert.Equal(88, (int)Marshal.OffsetOf<VirTypedParameter>(nameof(VirTypedParameter.StringValue)));
        Assert.Equal(88, (int)Marshal.OffsetOf<VirTypedParameter>(nameof(VirTypedParameter.BooleanValue)));
        Assert.Equal(88, (int)Marshal.OffsetOf<VirTypedParameter>(nameof(VirTypedParameter.IntValue)));
        Assert.Equal(88, (int)Marshal.OffsetOf<VirTypedParameter>(nameof(VirTypedParameter.UIntValue)));
        Assert.Equal(88, (int)Marshal.OffsetOf<VirTypedParameter>(nameof(VirTypedParameter.LongValue)));
    }

    [Fact]
    public void DomainStatsRecordMatchesLibvirtDomainH()
    {
        Assert.Equal(24, Unsafe.SizeOf<VirDomainStatsRecord>());
        Assert.Equal(0, (int)Marshal.OffsetOf<VirDomainStatsRecord>(nameof(VirDomainStatsRecord.Domain)));
        Assert.Equal(8, (int)Marshal.OffsetOf<VirDomainStatsRecord>(nameof(VirDomainStatsRecord.Params)));
        Assert.Equal(16, (int)Marshal.OffsetOf<VirDomainStatsRecord>(nameof(VirDomainStatsRecord.ParamCount)));
    }

    [Fact]
    public void DomainInfoMatchesLibvirtDomainH()
    {
        Assert.Equal(40, Unsafe.SizeOf<VirDomainInfo>());
        Assert.Equal(0, (int)Marshal.OffsetOf<VirDomainInfo>(nameof(VirDomainInfo.State)));
        Assert.Equal(8, (int)Marshal.OffsetOf<VirDomainInfo>(nameof(VirDomainInfo.MaxMemKiB)));
        Assert.Equal(16, (int)Marshal.OffsetOf<VirDomainInfo>(nameof(VirDomainInfo.MemoryKiB)));
        Assert.Equal(24, (int)Marshal.OffsetOf<VirDomainInfo>(nameof(VirDomainInfo.VirtCpuCount)));
        Assert.Equal(32, (int)Marshal.OffsetOf<VirDomainInfo>(nameof(VirDomainInfo.CpuTimeNs)));
    }

    [Fact]
    public void VcpuInfoMatchesLibvirtDomainH()
    {
        Assert.Equal(24, Unsafe.SizeOf<VirVcpuInfo>());
        Assert.Equal(0, (int)Marshal.OffsetOf<VirVcpuInfo>(nameof(VirVcpuInfo.Number)));
        Assert.Equal(4, (int)Marshal.OffsetOf<VirVcpuInfo>(nameof(VirVcpuInfo.State)));
        Assert.Equal(8, (int)Marshal.OffsetOf<VirVcpuInfo>(nameof(VirVcpuInfo.CpuTimeNs)));
        Assert.Equal(16, (int)Marshal.OffsetOf<VirVcpuInfo>(nameof(VirVcpuInfo.Cpu)));
    }

    [Fact]
    public void ErrorMatchesVirterrorH()
    {
        Assert.Equal(80, Unsafe.SizeOf<VirError>());
        Assert.Equal(0, (int)Marshal.OffsetOf<VirError>(nameof(VirError.Code)));
        Assert.Equal(4, (int)Marshal.OffsetOf<VirError>(nameof(VirError.Domain)));
        Assert.Equal(8, (int)Marshal.OffsetOf<VirError>(nameof(VirError.Message)));
        Assert.Equal(16, (int)Marshal.OffsetOf<VirError>(nameof(VirError.Level)));
        Assert.Equal(24, (int)Marshal.OffsetOf<VirError>(nameof(VirError.Conn)));
        Assert.Equal(32, (int)Marshal.OffsetOf<VirError>(nameof(VirError.Dom)));
        Assert.Equal(40, (int)Marshal.OffsetOf<VirError>(nameof(VirError.Str1)));
        Assert.Equal(48, (int)Marshal.OffsetOf<VirError>(nameof(VirError.Str2)));
        Assert.Equal(56, (int)Marshal.OffsetOf<VirError>(nameof(VirError.Str3)));
        Assert.Equal(64, (int)Marshal.OffsetOf<VirError>(nameof(VirError.Int1)));
        Assert.Equal(68, (int)Marshal.OffsetOf<VirError>(nameof(VirError.Int2)));
        Assert.Equal(72, (int)Marshal.OffsetOf<VirError>(nameof(VirError.Net)));
    }
}
