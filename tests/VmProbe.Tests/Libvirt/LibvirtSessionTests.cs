using VmProbe.Libvirt;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Libvirt;

/// <summary>
/// Counts the process's libvirt worker threads, which any libvirt session of a test running beside it adds and
/// removes: these run alone.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public class LibvirtSessionTests
{
    [SkippableFact]
    public void HungCallTimesOut_IsNeverReissuedWhileHung_NoThreadIsAdded_AndTheSessionAnswersOnceItReturns()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        var log = new RecordingLog();
        using var session = new LibvirtSession(LibvirtTestDriver.DefaultUri, TimeSpan.FromSeconds(2), log);
        using var release = new ManualResetEventSlim(false);

        Assert.Single(session.Run("list", c => c.ListDomains(true)));
        Assert.True(session.IsHealthy);
        var threadsBefore = LibvirtWorkerThreads();

        // Stands in for a libvirt call stuck in a hung daemon: the worker thread is blocked inside the call.
        var calls = 0;
        var timeout = Assert.Throws<LibvirtTimeoutException>(() => session.Run("stuck", c => { Interlocked.Increment(ref calls); return release.Wait(TimeSpan.FromSeconds(30)); }));
        Assert.Equal("stuck,Timeout", timeout.ErrorId);
        Assert.Equal(ProbeErrorKind.Timeout, timeout.Kind);
        Assert.False(session.IsHealthy);
        Assert.Equal(1, session.TimedOutCalls);
        Assert.True(session.HasLateCall);

        // While it hangs, further calls fail at once: not issued, no new worker thread or connection.
        for (var i = 0; i < 5; i++)
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            var again = Assert.Throws<LibvirtTimeoutException>(() => session.Run("list", c => { Interlocked.Increment(ref calls); return c.ListDomains(true); }));
            Assert.True(again.AlreadyReported);
            Assert.True(started.ElapsedMilliseconds < 200, $"a call behind a hung one waited {started.ElapsedMilliseconds} ms");
        }

        Assert.Equal(1, Volatile.Read(ref calls));
        Assert.Equal(threadsBefore, LibvirtWorkerThreads());

        // Once the hung call returns, the same worker answers again.
        release.Set();
        SpinWait.SpinUntil(() => !session.HasLateCall, TimeSpan.FromSeconds(5));
        var domain = Assert.Single(session.Run("list", c => c.ListDomains(true)));
        Assert.Equal("test", domain.Name);
        Assert.True(session.IsHealthy);
        Assert.Equal(threadsBefore, LibvirtWorkerThreads());

        Assert.Equal(1, log.Count(LogLevel.Warning));
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Info && l.Message.Contains("connection restored", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(500, 30_000, 250)]
    [InlineData(5000, 30_000, 2500)]
    [InlineData(120_000, 30_000, 30_000)]
    [InlineData(100, 10, 10)]
    public void DeadlineIsHalfTheDelayAtMostTheCap(int delayMs, int capMs, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), LibvirtSession.DeadlineFor(delayMs, TimeSpan.FromMilliseconds(capMs)));

    private static int LibvirtWorkerThreads() =>
        Directory.EnumerateDirectories("/proc/self/task").Count(task =>
        {
            try
            {
                return File.ReadAllText(Path.Combine(task, "comm")).Trim() == "vmprobe-libvirt";
            }
            catch (IOException)
            {
                return false;
            }
        });

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

    [SkippableFact]
    public void DisposeWaitsForALateCallToReturnAndItsConnectionToClose()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        var threadsBefore = LibvirtWorkerThreads();
        var session = new LibvirtSession(LibvirtTestDriver.DefaultUri, TimeSpan.FromMilliseconds(100), new RecordingLog());
        ConnectedWithin100Ms(session);
        using var release = new ManualResetEventSlim(false);
        var returned = 0;

        // A call past its deadline is still inside libvirt on the worker when the owner closes the session (at exit,
        // libraries' destructors would then run under it).
        Assert.Throws<LibvirtTimeoutException>(() => session.Run("late", c =>
        {
            release.Wait(TimeSpan.FromSeconds(30));
            Thread.Sleep(50);
            Volatile.Write(ref returned, 1);
            return c.ListDomains(true);
        }));
        using var releaser = new Timer(_ => release.Set(), null, 300, Timeout.Infinite);

        session.Dispose();

        Assert.Equal(1, Volatile.Read(ref returned));
        // Its worker has ended (an earlier test's worker may end meanwhile too, so not equal).
        Assert.True(LibvirtWorkerThreads() <= threadsBefore, $"{LibvirtWorkerThreads()} libvirt worker threads, {threadsBefore} before the session");
    }

    // On a loaded host opening the connection can outlast the 100 ms deadline (a late call would refuse the next one).
    private static void ConnectedWithin100Ms(LibvirtSession session)
    {
        for (var attempt = 0; ; attempt++)
        {
            SpinWait.SpinUntil(() => !session.HasLateCall, TimeSpan.FromSeconds(10));
            try
            {
                Assert.Single(session.Run("list", c => c.ListDomains(true)));
                return;
            }
            catch (LibvirtTimeoutException) when (attempt < 20)
            {
            }
        }
    }

    [SkippableFact]
    public void DisposeDoesNotWaitForeverForAHungCall()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        var log = new RecordingLog();
        var session = new LibvirtSession(LibvirtTestDriver.DefaultUri, TimeSpan.FromMilliseconds(100), log);
        using var release = new ManualResetEventSlim(false);
        Assert.Throws<LibvirtTimeoutException>(() => session.Run("hung", c => release.Wait(TimeSpan.FromSeconds(60))));

        session.Dispose();

        Assert.True(session.HasLateCall);
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("still running", StringComparison.Ordinal));
        release.Set();
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
