using System.Buffers.Binary;
using System.Text;
using VmProbe.Native;
using Xunit;

namespace VmProbe.Tests.Native;

public class NumericDirectoryListingTests
{
    [Fact]
    public void ListsTheSameIdsAsDotNet_ForProcAndATaskDirectory()
    {
        foreach (var directory in new[] { "/proc", $"/proc/{Environment.ProcessId}/task" })
        {
            var expected = new DirectoryInfo(directory).GetDirectories().Select(d => d.Name)
                .Where(n => n.All(char.IsAsciiDigit)).Select(int.Parse).ToHashSet();
            var listed = new List<int>();
            Assert.True(NumericDirectoryListing.TryList(directory, listed));
            var again = new DirectoryInfo(directory).GetDirectories().Select(d => d.Name)
                .Where(n => n.All(char.IsAsciiDigit)).Select(int.Parse).ToHashSet();

            // Processes and threads come and go between the listings: what both .NET listings saw must be there.
            expected.IntersectWith(again);
            Assert.Subset(listed.ToHashSet(), expected);
            Assert.Contains(Environment.ProcessId, listed);
        }
    }

    [Fact]
    public void ListsTheFdsOfThisProcessAsLinksAndNoDirectories()
    {
        using var held = File.OpenRead("/proc/self/stat");
        var fd = (int)held.SafeFileHandle.DangerousGetHandle();
        var links = new List<int>();
        Assert.True(NumericDirectoryListing.TryListLinks($"/proc/{Environment.ProcessId}/fd", links));
        Assert.Contains(fd, links);
        Assert.Contains(0, links);

        var directories = new List<int>();
        Assert.True(NumericDirectoryListing.TryList($"/proc/{Environment.ProcessId}/fd", directories));
        Assert.Empty(directories); // the fds are links, not directories: each listing keeps to its own kind

        var tasks = new List<int>();
        Assert.True(NumericDirectoryListing.TryListLinks($"/proc/{Environment.ProcessId}/task", tasks));
        Assert.Empty(tasks);
    }

    [Fact]
    public void AFileAMissingDirectoryAndOtherNamesAreNotIds()
    {
        var root = Directory.CreateTempSubdirectory("vmprobe-numeric-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "42"));
            Directory.CreateDirectory(Path.Combine(root, "7x"));
            Directory.CreateDirectory(Path.Combine(root, "99999999999")); // beyond int
            File.WriteAllText(Path.Combine(root, "43"), string.Empty);
            var listed = new List<int>();
            Assert.True(NumericDirectoryListing.TryList(root, listed));
            Assert.Equal(new[] { 42 }, listed);
            Assert.False(NumericDirectoryListing.TryList(Path.Combine(root, "gone"), listed));
            Assert.False(NumericDirectoryListing.TryList(Path.Combine(root, "43"), listed)); // not a directory
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void ARecordThatDoesNotFitItsBufferIsNotRead()
    {
        var buffer = new List<byte>();
        buffer.AddRange(Record("123", 4));
        buffer.AddRange(Record("456", 4));
        var bytes = buffer.ToArray();
        var listed = new List<int>();
        NumericDirectoryListing.AddNumericDirectories(bytes, listed);
        Assert.Equal(new[] { 123, 456 }, listed);

        // The second record claims more bytes than the buffer holds; a zero length would loop: both end the parse.
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(Record("123", 4).Length + 16), 200);
        listed.Clear();
        NumericDirectoryListing.AddNumericDirectories(bytes, listed);
        Assert.Equal(new[] { 123 }, listed);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(16), 0);
        listed.Clear();
        NumericDirectoryListing.AddNumericDirectories(bytes, listed);
        Assert.Empty(listed);
    }

    // struct linux_dirent64: d_ino, d_off, d_reclen, d_type, d_name (NUL-terminated, padded to 8 bytes).
    private static byte[] Record(string name, byte type)
    {
        var length = (19 + Encoding.ASCII.GetByteCount(name) + 1 + 7) & ~7;
        var record = new byte[length];
        BinaryPrimitives.WriteUInt64LittleEndian(record, 1);
        BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(16), (ushort)length);
        record[18] = type;
        Encoding.ASCII.GetBytes(name, record.AsSpan(19));
        return record;
    }
}
