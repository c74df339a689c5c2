using System.Runtime.InteropServices;
using VmProbe.Libvirt;
using Xunit;

namespace VmProbe.Tests.Libvirt;

/// <summary>libvirt prints errors to stderr unless a handler is set; the runner's stderr is its log, so it must stay clean.</summary>
[Collection(LibvirtStderrCollection.Name)]
public class LibvirtStderrTests
{
    [SkippableFact]
    public void FailingCallPrintsNothingOnFd2()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        var capture = Path.Combine(Path.GetTempPath(), $"vmprobe-stderr-{Environment.ProcessId}-{Guid.NewGuid():N}.txt");
        var saved = dup(2);
        Assert.True(saved >= 0);
        LibvirtException? error = null;
        try
        {
            var fd = open(capture, 0x41 /* O_WRONLY|O_CREAT */, 0x180 /* 0600 */);
            Assert.True(fd >= 0);
            Assert.True(dup2(fd, 2) >= 0);
            close(fd);
            try
            {
                LibvirtConnection.OpenReadOnly("vmprobe-bogus:///nothing").Dispose();
            }
            catch (LibvirtException ex)
            {
                error = ex;
            }
        }
        finally
        {
            dup2(saved, 2);
            close(saved);
        }

        var text = File.ReadAllText(capture);
        File.Delete(capture);
        Assert.NotNull(error);
        Assert.DoesNotContain("libvirt", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(error!.LibvirtMessage!, text, StringComparison.Ordinal);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int dup(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int dup2(int oldFd, int newFd);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int open(string path, int flags, int mode);
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LibvirtStderrCollection
{
    public const string Name = "libvirt stderr";
}
