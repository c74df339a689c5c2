using VmProbe.Composition;
using Xunit;

namespace VmProbe.Tests.Probe;

/// <summary>At the open-file limit the runtime reports an assembly it cannot open as a missing file: the log says EMFILE.</summary>
public class FailureTextTests
{
    private static readonly FileNotFoundException LoadFailure =
        new("Could not load file or assembly 'System.Threading.Thread, Version=8.0.0.0'. The system cannot find the file specified.");

    [Fact]
    public void ALoadFailureAtTheLimitIsTooManyOpenFiles()
    {
        var text = FailureText.Describe(LoadFailure, openFds: 62, limit: 64);

        Assert.NotNull(text);
        Assert.StartsWith("too many open files: 62 of the 64 allowed (RLIMIT_NOFILE) are open", text, StringComparison.Ordinal);
        Assert.EndsWith("[EMFILE]", text, StringComparison.Ordinal);
        Assert.Contains("System.Threading.Thread", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ALoadFailureWrappedInATypeInitializerIsRecognised() =>
        Assert.NotNull(FailureText.Describe(new TypeInitializationException("X", LoadFailure), openFds: 60, limit: 64));

    [Fact]
    public void AThreadThatCannotStartAtTheLimitIsTooManyOpenFiles() =>
        Assert.StartsWith("too many open files: 61 of the 61 allowed", FailureText.Describe(new OutOfMemoryException(), openFds: 61, limit: 61), StringComparison.Ordinal);

    [Fact]
    public void OutOfMemoryFarFromTheLimitIsLeftAlone() =>
        Assert.Null(FailureText.Describe(new OutOfMemoryException(), openFds: 20, limit: 1024));

    [Theory]
    [InlineData(10, 64ul)] // far from the limit: a real missing file
    [InlineData(62, 1024ul)]
    public void ALoadFailureFarFromTheLimitIsLeftAlone(long open, ulong limit) =>
        Assert.Null(FailureText.Describe(LoadFailure, open, limit));

    [Fact]
    public void AnEmfileIOExceptionIsTooManyOpenFilesWithTheLimit()
    {
        var error = new IOException("Too many open files : '/proc'", 24);
        var text = FailureText.Describe(error, openFds: 70, limit: 64);

        Assert.Equal("too many open files: 64 of the 64 allowed (RLIMIT_NOFILE) are open (IOException: Too many open files : '/proc'); raise the limit (ulimit -n, LimitNOFILE=) [EMFILE]", text);
    }

    [Fact]
    public void OtherErrorsAreLeftAlone() =>
        Assert.Null(FailureText.Describe(new InvalidOperationException("x"), openFds: 63, limit: 64));
}
