using System.Text;
using VmProbe.Procfs;
using Xunit;

namespace VmProbe.Tests.Procfs;

/// <summary>The host-wide procfs files are opened once and re-read with one pread at offset 0 each cycle.</summary>
public class HostFileTests
{
    [Fact]
    public void HostFilesAreOpenedOnceReadFreshEachTimeAndClosedWithTheReader()
    {
        var root = Directory.CreateTempSubdirectory("vmprobe-hostfiles-").FullName;
        try
        {
            var proc = Directory.CreateDirectory(Path.Combine(root, "proc")).FullName;
            File.WriteAllText(Path.Combine(proc, "meminfo"), "MemTotal: 100 kB\nMemFree: 10 kB\n");
            File.WriteAllText(Path.Combine(proc, "loadavg"), "0.50 0.25 0.10 1/100 42\n");
            using (var reader = new ProcFs(root))
            {
                Assert.Equal(100UL * 1024, reader.ReadMemInfo()!["MemTotal"]);
                Assert.Equal(0.5, reader.ReadLoadAverage()!.Value.Load1);
                Assert.Equal(2, OpenFdsUnder(root));

                // Rewritten in place (same inode, as procfs regenerates its content): the kept fd reads the new bytes.
                File.WriteAllText(Path.Combine(proc, "meminfo"), "MemTotal: 200 kB\nMemFree: 20 kB\n");
                Assert.Equal(200UL * 1024, reader.ReadMemInfo()!["MemTotal"]);
                Assert.Equal(2, OpenFdsUnder(root));

                // Files the kernel lacks are omitted and keep no fd.
                Assert.Null(reader.ReadHostSchedStat());
                Assert.Null(reader.ReadPressure("cpu"));
                Assert.Equal(2, OpenFdsUnder(root));
            }

            Assert.Equal(0, OpenFdsUnder(root));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void AKeptFileLargerThanTheBufferIsReadWhole()
    {
        var path = Path.Combine(Path.GetTempPath(), "vmprobe-keptwhole-" + Guid.NewGuid().ToString("N"));
        try
        {
            var large = string.Concat(Enumerable.Range(0, 400).Select(i => $"line {i}\n"));
            File.WriteAllText(path, large);
            using var reader = new ProcFileReader(initialCapacity: 256);
            using var kept = reader.TryOpenKept(path, 0, 0, "file", out var missing);
            Assert.NotNull(kept);
            Assert.False(missing);

            Assert.True(reader.TryReadKept(kept!, path));
            Assert.Equal(large, Encoding.ASCII.GetString(reader.Content));

            File.WriteAllText(path, "short\n");
            Assert.True(reader.TryReadKept(kept!, path));
            Assert.Equal("short\n", Encoding.ASCII.GetString(reader.Content));

            File.WriteAllText(path, string.Empty);
            Assert.False(reader.TryReadKept(kept!, path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// A seq file of many small records (like /proc/schedstat, a record per CPU) comes at most a kernel buffer (a page)
    /// per read: read until a read returns nothing, all of it is there. This process' /proc/self/maps is such a file,
    /// longer than a page, and its last line ([vsyscall] or [stack]) stays put.
    /// </summary>
    [SkippableFact]
    public void AKeptFileOfManyRecordsIsReadToItsEnd()
    {
        const string Path = "/proc/self/maps";
        static string LastLine(string text) => text.TrimEnd('\n').Split('\n')[^1];
        var whole = File.ReadAllText(Path);
        Skip.IfNot(whole.Length > 8192, $"{Path} is no longer than two pages here");
        using var reader = new ProcFileReader();
        using var kept = reader.TryOpenKept(Path, 0, 0, "maps", out _);
        Assert.NotNull(kept);

        // Taking the first short read for the end, as for a file of one record, would cut it.
        Assert.True(reader.TryReadKept(kept!, Path));
        Assert.True(reader.Content.Length < whole.Length / 2 + 4096, $"one read gave {reader.Content.Length} of {whole.Length} bytes");

        for (var i = 0; i < 2; i++)
        {
            Assert.True(reader.TryReadKept(kept!, Path, manyRecords: true));
            var text = Encoding.ASCII.GetString(reader.Content);
            Assert.True(text.Length > 8192, $"{text.Length} bytes");
            Assert.Equal(LastLine(File.ReadAllText(Path)), LastLine(text));
        }
    }

    [SkippableFact]
    public void TheRealHostFilesReadTheSameKeptAsByPath()
    {
        using var reader = new ProcFs();
        var first = reader.ReadStat();
        Skip.If(first is null, "no /proc/stat here");
        var second = reader.ReadStat()!;
        Assert.True(second.ContextSwitches >= first!.ContextSwitches);
        Assert.True(second.Total.Idle >= first.Total.Idle);
        Assert.True(reader.ReadMemInfo()!["MemTotal"] > 0);
        Assert.True(reader.ReadMemInfo()!["MemTotal"] > 0);
    }

    private static int OpenFdsUnder(string root) =>
        Directory.EnumerateFileSystemEntries("/proc/self/fd")
            .Count(fd => new FileInfo(fd).LinkTarget is { } target && target.StartsWith(root, StringComparison.Ordinal));
}
