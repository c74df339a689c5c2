using VmProbe.Libvirt;
using Xunit;

namespace VmProbe.Tests.Libvirt;

public class LibvirtSessionTests
{
    [SkippableFact]
    public void HungCallTimesOutAbandonsTheWorkerAndTheNextCallReconnects()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        var log = new RecordingLog();
        using var session = new LibvirtSession(LibvirtTestDriver.DefaultUri, TimeSpan.FromMilliseconds(300), log);
        using var release = new ManualResetEventSlim(false);

        Assert.Single(session.Run("list", c => c.ListDomains(true)));
        Assert.True(session.IsHealthy);

        // Stands in for a libvirt call stuck in a hung daemon: the worker thread is blocked inside the call.
        var timeout = Assert.Throws<LibvirtTimeoutException>(() => session.Run("stuck", c => release.Wait(TimeSpan.FromSeconds(30))));
        Assert.Equal("stuck,Timeout", timeout.ErrorId);
        Assert.Equal(ProbeErrorKind.Timeout, timeout.Kind);
        Assert.False(session.IsHealthy);
        Assert.Equal(1, session.AbandonedWorkers);

        // A fresh worker and connection serve the next call while the old one is still blocked.
        var domain = Assert.Single(session.Run("list", c => c.ListDomains(true)));
        Assert.Equal("test", domain.Name);
        Assert.True(session.IsHealthy);
        release.Set();

        Assert.Equal(1, log.Count(LogLevel.Warning));
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Info && l.Message.Contains("connection restored", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void RepeatedFailureIsLoggedOnceAndMarkedAlreadyReported()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        var log = new RecordingLog();
        using var session = new LibvirtSession("vmprobe-bogus:///nothing", TimeSpan.FromSeconds(30), log);

        var first = Assert.Throws<LibvirtException>(() => session.Run("list", c => c.ListDomains(true)));
        var second = Assert.Throws<LibvirtException>(() => session.Run("list", c => c.ListDomains(true)));
        var third = Assert.Throws<LibvirtException>(() => session.Run("list", c => c.ListDomains(true)));

        Assert.False(first.AlreadyReported);
        Assert.True(second.AlreadyReported);
        Assert.True(third.AlreadyReported);
        Assert.Equal(first.ErrorId, third.ErrorId);
        Assert.Equal(1, log.Count(LogLevel.Warning));
        Assert.Contains(first.Message, log.Lines.Single(l => l.Level == LogLevel.Warning).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsNonPositiveTimeout()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new LibvirtSession("test:///default", TimeSpan.Zero, NullProbeLog.Instance));
        Assert.Equal("callTimeout", ex.ParamName);
    }
}

internal sealed class RecordingLog : IProbeLog
{
    private readonly List<(LogLevel Level, string Message)> _lines = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Lines
    {
        get
        {
            lock (_lines)
            {
                return _lines.ToArray();
            }
        }
    }

    public bool IsEnabled(LogLevel level) => true;

    public void Write(LogLevel level, string message)
    {
        lock (_lines)
        {
            _lines.Add((level, message));
        }
    }

    public int Count(LogLevel level) => Lines.Count(l => l.Level == level);
}
