using System.Runtime.InteropServices;
using VmProbe.Kvm.Exits;
using VmProbe.Perf;
using VmProbe.Prometheus;
using VmProbe.Tests.Infrastructure;
using VmProbe.Tests.Perf;
using Xunit;

namespace VmProbe.Tests.Prometheus;

/// <summary>
/// The syscalls a steady write costs, counted by the kernel on this thread (raw_syscalls:sys_enter filtered by id,
/// through the exits source's perf-filter tracer): no fsync, one exchange (renameat2) and one unlink of the old file per
/// write, no rename over the file (on ext4 that starts a device write of the new file every cycle).
/// </summary>
[Collection(ProcessWideCollection.Name)]
public sealed class TextFileWriterSyscallTests : IDisposable
{
    private const uint Rename = 82; // x86_64 syscall numbers
    private const uint RenameAt = 264;
    private const uint RenameAt2 = 316;
    private const uint Unlink = 87;
    private const uint UnlinkAt = 263;
    private const uint FSync = 74;

    private readonly string _dir = Directory.CreateTempSubdirectory("vmprobe-textfile-sys-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public void ASteadyWriteExchangesAndUnlinksTheOldFileWithoutFsyncOrRenameOverIt()
    {
        Skip.IfNot(RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64, "the syscall numbers used are x86_64's");
        Skip.IfNot(Requirements.IsRoot, "tracepoint counters need root (or CAP_PERFMON) here");
        Skip.If(PerfTestSupport.WhyPerfUnavailable is not null, PerfTestSupport.WhyPerfUnavailable);
        try
        {
            TracepointResolver.Resolve("raw_syscalls:sys_enter");
        }
        catch (TracepointException ex)
        {
            Skip.If(true, $"raw_syscalls:sys_enter cannot be had here: {ex.Message}");
        }

        var writer = new TextFileWriter(Path.Combine(_dir, "a.prom"));
        writer.Write("first 1\n"u8); // the first write cleans up (stale temps, a leftover of this pid)
        var tid = PerfTestSupport.GetTid();
        using var tracer = PerfFilterExitTracer.Create(new[] { Rename, RenameAt, RenameAt2, Unlink, UnlinkAt, FSync }, KvmExitIsa.Unknown, tracepoint: "raw_syscalls:sys_enter", field: "id");
        tracer.Track(Environment.ProcessId, new[] { tid });
        var before = tracer.Snapshot();
        for (var i = 0; i < 5; i++)
        {
            writer.Write("next 2\n"u8);
        }

        var after = tracer.Snapshot();
        Skip.If(Count(after, RenameAt2) == Count(before, RenameAt2), "the kernel delivered no raw_syscalls:sys_enter event to the new counter (another tracer changing the tracepoint?)");
        Assert.Equal(tid, PerfTestSupport.GetTid()); // counted on the thread that wrote
        Assert.Equal(5UL, Count(after, RenameAt2) - Count(before, RenameAt2));
        Assert.Equal(0UL, Count(after, Rename) + Count(after, RenameAt) - Count(before, Rename) - Count(before, RenameAt));
        Assert.Equal(0UL, Count(after, FSync) - Count(before, FSync));
        Assert.Equal(5UL, Count(after, Unlink) + Count(after, UnlinkAt) - Count(before, Unlink) - Count(before, UnlinkAt));
        Assert.Equal("next 2\n", File.ReadAllText(Path.Combine(_dir, "a.prom")));
        Assert.False(File.Exists(writer.TempPath)); // the old file went with its unlink
    }

    [Fact]
    public void AFileInTheTempsWayAfterTheFirstWriteFailsOneWriteOnlyAndIsRemoved()
    {
        var endpoint = Path.Combine(_dir, "b.prom");
        var writer = new TextFileWriter(endpoint);
        writer.Write("first 1\n"u8);
        File.WriteAllText(writer.TempPath, "in the way"); // not unlinked before every write any more

        var error = Assert.Throws<TextFileWriteException>(() => writer.Write("second 2\n"u8));
        Assert.Contains(writer.TempPath, error.Message, StringComparison.Ordinal);
        Assert.Equal("first 1\n", File.ReadAllText(endpoint));

        writer.Write("third 3\n"u8);
        Assert.Equal("third 3\n", File.ReadAllText(endpoint));
        Assert.False(File.Exists(writer.TempPath));
    }

    [Fact]
    public void AReaderThatOpenedTheFileBeforeAReplaceReadsTheWholeOldFile()
    {
        var endpoint = Path.Combine(_dir, "c.prom");
        var writer = new TextFileWriter(endpoint);
        var old = string.Concat(Enumerable.Repeat("old_series 1\n", 10_000));
        writer.Write(System.Text.Encoding.ASCII.GetBytes(old));
        using var reader = new StreamReader(endpoint);
        Assert.Equal('o', (char)reader.Peek()); // opened and started before the replace

        writer.Write("new_series 2\n"u8);
        writer.Write("newer_series 3\n"u8);

        Assert.Equal(old, reader.ReadToEnd());
        Assert.Equal("newer_series 3\n", File.ReadAllText(endpoint));
        Assert.False(File.Exists(writer.TempPath));
    }

    private static ulong Count(KvmExitSnapshot snapshot, uint id) =>
        snapshot.Exits.Where(e => e.Reason == id).Aggregate(0UL, (sum, e) => sum + e.Count);
}
