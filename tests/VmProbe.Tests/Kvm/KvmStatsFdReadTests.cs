using VmProbe.Kvm;
using VmProbe.Native;
using Xunit;
using static VmProbe.Tests.Kvm.KvmStatsFixture;

namespace VmProbe.Tests.Kvm;

/// <summary>A stats fd's per-cycle read (one pread into the u64s its readings are windows on), on fixture files.</summary>
public sealed class KvmStatsFdReadTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vmprobe-kvmfd-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private KvmStatsFd Open(byte[] blob)
    {
        var path = Path.Combine(_dir, Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(path, blob);
        return KvmStatsFd.FromHandle(Interop.Libc.Open(path, Interop.Libc.O_RDONLY | Interop.Libc.O_CLOEXEC), path);
    }

    [Fact]
    public void EachReadSeesTheFilesCurrentValuesAsTheWholeFileParserDoes()
    {
        var fixture = X86Vcpu(2, seed: 7);
        using var fd = Open(fixture.Build());
        var expected = Read(fixture.Build());
        var first = fd.Read();
        Assert.Equal(2, first.Vcpu);
        Assert.Equal(expected.Readings.Select(r => (r.Descriptor.Name, r.Values.ToArray())), first.Readings.Select(r => (r.Descriptor.Name, r.Values.ToArray())));

        // The kernel rewrites the data block in place: the next read (same fd, same snapshot object) follows it.
        var changed = X86Vcpu(2, seed: 8);
        File.WriteAllBytes(fd.Target, changed.Build());
        var second = fd.Read();
        Assert.Equal(Read(changed.Build()).Readings.Select(r => r.Values.ToArray()), second.Readings.Select(r => r.Values.ToArray()));
        Assert.NotEqual(expected.Readings.Select(r => r.Values.ToArray()), second.Readings.Select(r => r.Values.ToArray()));
    }

    [Fact]
    public void KeepOnlyReadsTheKeptStatisticsWithTheirCurrentValuesAndNoOthers()
    {
        var fixture = X86Vcpu(1, seed: 3);
        using var fd = Open(fixture.Build());
        var all = Read(fixture.Build()).Readings;
        Assert.True(all.Count > 10);
        var allow = KvmStatsFilter.Create(new[] { "halt_*", all[0].Descriptor.Name })!;
        fd.KeepOnly(allow);
        var kept = all.Where(r => allow(r.Descriptor.Name)).ToList();
        Assert.InRange(kept.Count, 2, all.Count - 1);

        var first = fd.Read();
        Assert.Equal(kept.Select(r => (r.Descriptor.Name, r.Values.ToArray())), first.Readings.Select(r => (r.Descriptor.Name, r.Values.ToArray())));

        // Values move with the file, those kept included; the ones left out are never read.
        var changed = X86Vcpu(1, seed: 4);
        File.WriteAllBytes(fd.Target, changed.Build());
        var expected = Read(changed.Build()).Readings.Where(r => allow(r.Descriptor.Name)).Select(r => r.Values.ToArray()).ToList();
        Assert.Equal(expected, fd.Read().Readings.Select(r => r.Values.ToArray()));
        Assert.NotEqual(kept.Select(r => r.Values.ToArray()), expected);

        // Only their span is read: a file cut right after it still reads, where the whole data block would be short.
        var keptEnd = kept.Max(r => r.Descriptor.Offset + (r.Descriptor.Size * sizeof(ulong)));
        Assert.True(keptEnd < fd.Layout.DataLength, "the kept statistics reach the end of the data block: pick others");
        var blob = changed.Build();
        File.WriteAllBytes(fd.Target, blob[..(fd.Layout.DataOffset + keptEnd)]);
        Assert.Equal(expected, fd.Read().Readings.Select(r => r.Values.ToArray()));
        using (var whole = Open(blob))
        {
            File.WriteAllBytes(whole.Target, blob[..(fd.Layout.DataOffset + keptEnd)]);
            Assert.Equal("kvm_stats_format,truncated", Assert.Throws<KvmStatsException>(() => whole.Read()).ErrorId);
        }

        fd.KeepOnly(_ => false);
        Assert.Empty(fd.Read().Readings);
    }

    [Fact]
    public void AStatisticAtAnOffsetThatIsNotAU64IsRejectedNamingTheFile()
    {
        var blob = new KvmStatsFixture().Stat("a", Cumulative, 0, 1).Add("misaligned", Cumulative, 0, 1, 0, new ulong[] { 2 }, offset: 12).Build();
        var error = Assert.Throws<KvmStatsException>(() => Open(blob));
        Assert.Contains("multiple of 8", error.Message, StringComparison.Ordinal);
        Assert.Contains(_dir, error.Message, StringComparison.Ordinal);
    }
}
