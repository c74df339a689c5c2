using VmProbe.Composition;
using Xunit;

namespace VmProbe.Tests.Probe;

/// <summary>
/// <c>--once</c> closes the sources while its file is written: their teardown is mostly waiting in the kernel (an eBPF
/// link's grace periods, thousands of perf fds), which the export then no longer waits behind.
/// </summary>
public class ProbeRunOnceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task TheSourcesCloseWhileTheFileIsWritten_EachOnce()
    {
        using var closing = new ManualResetEventSlim();
        using var writing = new ManualResetEventSlim();
        var slow = new ClosingSource("slow") { OnDispose = () => { closing.Set(); return writing.Wait(Patience); } };
        var host = new ClosingSource("host");
        var sink = new WritingSink { OnExport = () => { writing.Set(); return closing.Wait(Patience); } };
        var run = ProbeRun.FromParts(null, new IMetricSource[] { host, slow }, sink, new ConcurrentLog(), 200);

        await run.RunOnceAsync(CancellationToken.None);

        Assert.True(sink.SawTheOther, "the file was written before the sources began to close");
        Assert.True(slow.SawTheOther, "the sources closed before the file was written");
        Assert.Equal(1, sink.Exports);
        Assert.Equal((1, 1), (slow.Disposals, host.Disposals)); // closed by the time RunOnceAsync returned
        run.Dispose();
        Assert.Equal((1, 1), (slow.Disposals, host.Disposals)); // and not again
    }

    [Fact]
    public async Task ALogForOneThreadLeavesTheSourcesToDispose()
    {
        var source = new ClosingSource("host");
        var run = ProbeRun.FromParts(null, new IMetricSource[] { source }, new WritingSink(), NullProbeLog.Instance, 200);

        await run.RunOnceAsync(CancellationToken.None);

        Assert.Equal(0, source.Disposals); // its Dispose could log from another thread
        run.Dispose();
        Assert.Equal(1, source.Disposals);
    }

    [Fact]
    public async Task TheOnceExportIsTheSinksLast_ALoopsCyclesAreNot()
    {
        var onceSink = new WritingSink();
        using (var once = ProbeRun.FromParts(null, new IMetricSource[] { new ClosingSource("host") }, onceSink, new ConcurrentLog(), 200))
        {
            await once.RunOnceAsync(CancellationToken.None);
        }

        var loopSink = new WritingSink();
        using (var loop = ProbeRun.FromParts(null, new IMetricSource[] { new ClosingSource("host") }, loopSink, new ConcurrentLog(), 200))
        {
            await loop.Loop.RunNextAsync(CancellationToken.None);
            await loop.Loop.RunNextAsync(CancellationToken.None);
        }

        Assert.Equal((1, 1), (onceSink.Exports, onceSink.LastExports));
        Assert.Equal((2, 0), (loopSink.Exports, loopSink.LastExports));
    }

    private sealed class ClosingSource : KnownSource, IDisposable
    {
        private int _disposals;

        public ClosingSource(string name)
            : base(name)
        {
        }

        /// <summary>Runs in Dispose; true when it saw the other side (the export) begin.</summary>
        public Func<bool>? OnDispose { get; init; }

        public bool SawTheOther { get; private set; }

        public int Disposals => Volatile.Read(ref _disposals);

        void IDisposable.Dispose()
        {
            SawTheOther = OnDispose?.Invoke() ?? false;
            Interlocked.Increment(ref _disposals);
        }
    }

    private sealed class WritingSink : ITextfileSink
    {
        public string Destination => "memory";

        /// <summary>Runs in Export; true when it saw the other side (a source's Dispose) begin.</summary>
        public Func<bool>? OnExport { get; init; }

        public bool SawTheOther { get; private set; }

        public int Exports { get; private set; }

        public int LastExports { get; private set; }

        public void Export(MetricSet metrics)
        {
            SawTheOther = OnExport?.Invoke() ?? false;
            Exports++;
        }

        public void ExportLast(MetricSet metrics)
        {
            LastExports++;
            Export(metrics);
        }
    }
}
