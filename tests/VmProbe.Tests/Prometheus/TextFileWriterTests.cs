using System.Text;
using VmProbe.Prometheus;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Prometheus;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(ProcessWideCollection.Name)]
public sealed class TextFileWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vmprobe-textfile-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private string[] LeftoverTemps() => Directory.GetFiles(_dir, "*.tmp.*", SearchOption.AllDirectories);

    [Fact]
    public void WritesContentWithMode0644AndLeavesNoTemp()
    {
        var endpoint = Path.Combine(_dir, "vmprobe.prom");

        TextFileWriter.WriteAtomic(endpoint, Utf8("a 1\n"));

        Assert.Equal("a 1\n", File.ReadAllText(endpoint));
        Assert.Equal(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            File.GetUnixFileMode(endpoint));
        Assert.Equal(new[] { endpoint }, Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public void TempFileNameDoesNotEndInProm()
    {
        var writer = new TextFileWriter(Path.Combine(_dir, "vmprobe.prom"));

        Assert.Equal(_dir, Path.GetDirectoryName(writer.TempPath));
        Assert.Equal($".vmprobe.prom.tmp.{Environment.ProcessId}", Path.GetFileName(writer.TempPath));
        Assert.False(writer.TempPath.EndsWith(".prom", StringComparison.Ordinal));
    }

    [Fact]
    public void ReplacesPreviousContent()
    {
        var writer = new TextFileWriter(Path.Combine(_dir, "vmprobe.prom"));
        writer.Write(Utf8("old 1\nold 2\nold 3\n"));

        writer.Write(Utf8("new 1\n"));

        Assert.Equal("new 1\n", File.ReadAllText(writer.EndpointPath));
        Assert.Empty(LeftoverTemps());
    }

    [Fact]
    public void CreatesMissingDirectories()
    {
        var endpoint = Path.Combine(_dir, "a", "b", "vmprobe.prom");

        TextFileWriter.WriteAtomic(endpoint, Utf8("x 1\n"));

        Assert.Equal("x 1\n", File.ReadAllText(endpoint));
    }

    [Fact]
    public void DirectoryThatIsAFileGivesTypedErrorNamingThePath()
    {
        var notADirectory = Path.Combine(_dir, "file");
        File.WriteAllText(notADirectory, "I am a file");

        var e = Assert.Throws<TextFileWriteException>(() => TextFileWriter.WriteAtomic(Path.Combine(notADirectory, "vmprobe.prom"), Utf8("x 1\n")));

        Assert.Equal("textfile_open,ENOTDIR", e.ErrorId);
        Assert.Equal(20, e.Errno);
        Assert.Equal(ProbeErrorKind.NotFound, e.Kind);
        Assert.Contains(notADirectory, e.Message, StringComparison.Ordinal);
        Assert.Equal("I am a file", File.ReadAllText(notADirectory));
    }

    [Fact]
    public void FailedRenameLeavesPreviousEndpointAndNoTemp()
    {
        // The endpoint is a non-empty directory: rename(2) over it fails after the temp was fully written.
        var endpoint = Path.Combine(_dir, "vmprobe.prom");
        Directory.CreateDirectory(endpoint);
        File.WriteAllText(Path.Combine(endpoint, "keep"), "previous");

        var e = Assert.Throws<TextFileWriteException>(() => TextFileWriter.WriteAtomic(endpoint, Utf8("x 1\n")));

        Assert.StartsWith("textfile_rename,", e.ErrorId, StringComparison.Ordinal);
        Assert.Equal(endpoint, e.Path);
        Assert.Equal("previous", File.ReadAllText(Path.Combine(endpoint, "keep")));
        Assert.Empty(LeftoverTemps());
    }

    [Fact]
    public void ADirectoryPutWhereTheFileWasIsLeftThereAndTheWriteFails()
    {
        // After a first write a replace exchanges the names: a directory there must not be moved to the temp name.
        var endpoint = Path.Combine(_dir, "vmprobe.prom");
        var writer = new TextFileWriter(endpoint);
        writer.Write(Utf8("a 1\n"));
        writer.Write(Utf8("a 2\n"));
        File.Delete(endpoint);
        Directory.CreateDirectory(endpoint);
        File.WriteAllText(Path.Combine(endpoint, "keep"), "previous");

        var e = Assert.Throws<TextFileWriteException>(() => writer.Write(Utf8("a 3\n")));

        Assert.StartsWith("textfile_rename,", e.ErrorId, StringComparison.Ordinal);
        Assert.Equal("previous", File.ReadAllText(Path.Combine(endpoint, "keep")));
        Assert.Empty(LeftoverTemps());

        Directory.Delete(endpoint, recursive: true);
        writer.Write(Utf8("a 4\n"));
        Assert.Equal("a 4\n", File.ReadAllText(endpoint));
        Assert.Empty(LeftoverTemps());
    }

    [SkippableFact]
    public void NoSpaceLeavesPreviousFileIntactAndNoTemp()
    {
        Skip.IfNot(Requirements.IsRoot, "needs root to mount a small tmpfs");
        var mountPoint = Path.Combine(_dir, "small");
        Directory.CreateDirectory(mountPoint);
        var mount = Requirements.Run("/bin/mount", $"-t tmpfs -o size=64k tmpfs {mountPoint}");
        Skip.IfNot(mount.ExitCode == 0, $"cannot mount a tmpfs here: {mount.Stderr.Trim()}");
        try
        {
            var writer = new TextFileWriter(Path.Combine(mountPoint, "vmprobe.prom"));
            writer.Write(Utf8("previous 1\n"));

            var e = Assert.Throws<TextFileWriteException>(() => writer.Write(new byte[1024 * 1024]));

            Assert.Equal("textfile_write,ENOSPC", e.ErrorId);
            Assert.Equal(ProbeErrorKind.ResourceUnavailable, e.Kind);
            Assert.Equal("previous 1\n", File.ReadAllText(writer.EndpointPath));
            Assert.Equal(new[] { writer.EndpointPath }, Directory.GetFileSystemEntries(mountPoint));

            writer.Write(Utf8("after 2\n")); // recovers once space is there again
            Assert.Equal("after 2\n", File.ReadAllText(writer.EndpointPath));
        }
        finally
        {
            Requirements.Run("/bin/umount", mountPoint);
        }
    }

    [Fact]
    public void StaleTempsOfDeadProcessesAreRemovedLiveOnesKept()
    {
        var endpoint = Path.Combine(_dir, "vmprobe.prom");
        var deadPid = Enumerable.Range(4_000_000, 1000).First(p => !Directory.Exists($"/proc/{p}"));
        var stale = TextFileWriter.TempPathFor(endpoint, deadPid);
        var live = TextFileWriter.TempPathFor(endpoint, 1); // pid 1 always runs
        var unrelated = Path.Combine(_dir, ".vmprobe.prom.tmp.notapid");
        File.WriteAllText(stale, "half a fi");
        File.WriteAllText(live, "other");
        File.WriteAllText(unrelated, "x");

        TextFileWriter.WriteAtomic(endpoint, Utf8("x 1\n"));

        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(live));
        Assert.True(File.Exists(unrelated));
        Assert.Equal("x 1\n", File.ReadAllText(endpoint));
    }

    [Theory]
    [InlineData("metrics.txt")]
    [InlineData("metrics.prom.tmp")]
    [InlineData(".prom")]
    [InlineData("")]
    public void EndpointMustEndInProm(string name)
    {
        var e = Assert.Throws<VmProbeException>(() => new TextFileWriter(Path.Combine(_dir, name)));

        Assert.Equal("textfile_path,invalid", e.ErrorId);
    }

    [Fact]
    public void WritesAndFailuresDoNotLeakDescriptors()
    {
        var writer = new TextFileWriter(Path.Combine(_dir, "vmprobe.prom"));
        var blocked = Path.Combine(_dir, "blocked.prom");
        Directory.CreateDirectory(Path.Combine(blocked, "sub"));
        var failing = new TextFileWriter(blocked);
        writer.Write(Utf8("warm 1\n"));
        Assert.Throws<TextFileWriteException>(() => failing.Write(Utf8("x 1\n")));
        for (var i = 0; i < 200; i++)
        {
            writer.Write(Utf8($"n {i}\n"));
            Assert.Throws<TextFileWriteException>(() => failing.Write(Utf8("x 1\n")));
        }

        // Count only descriptors on files of this test's directory: other tests open sockets and pipes in parallel.
        var ours = new DirectoryInfo("/proc/self/fd").GetFileSystemInfos()
            .Select(fd => fd.LinkTarget).Where(target => target is not null && target.StartsWith(_dir, StringComparison.Ordinal)).ToList();
        Assert.Empty(ours);
        Assert.Equal("n 199\n", File.ReadAllText(writer.EndpointPath));
    }

    [Fact]
    public void WritesAMetricSet()
    {
        var writer = new TextFileWriter(Path.Combine(_dir, "vmprobe.prom"));
        var set = new MetricSet();
        set.Family("up", MetricType.Gauge, "h").Add(1);

        var result = writer.Write(set, new PromTextWriter("test"));

        Assert.Equal(1, result.Series);
        Assert.Equal("# HELP test_up h\n# TYPE test_up gauge\ntest_up 1\n", File.ReadAllText(writer.EndpointPath));
    }
}
