using VmProbe.Composition;
using Xunit;

namespace VmProbe.Tests.Views;

/// <summary>Issue 15: sinks beside the textfile each get the cycle; a failure of one is rethrown after the others ran.</summary>
public class CompositeSinkTests
{
    private sealed class Recording(string name, bool fail = false) : ITextfileSink
    {
        public int Exports { get; private set; }

        public string Destination => name;

        public void Export(MetricSet metrics)
        {
            Exports++;
            if (fail)
            {
                throw new IOException($"{name} failed");
            }
        }
    }

    /// <summary>A sink that knows the last export apart (the textfile's, which then caches nothing).</summary>
    private sealed class RecordingLast(string name, bool fail = false) : ITextfileSink
    {
        public int Exports { get; private set; }

        public int LastExports { get; private set; }

        public string Destination => name;

        public void Export(MetricSet metrics) => Exports++;

        public void ExportLast(MetricSet metrics)
        {
            LastExports++;
            if (fail)
            {
                throw new IOException($"{name} failed");
            }
        }
    }

    [Fact]
    public void TheLastExportGoesToEverySink_AsTheirLastWhereTheyKnowOne()
    {
        var textfile = new RecordingLast("vms.prom", fail: true);
        var csv = new Recording("the csv files");
        var sink = new CompositeSink(new ITextfileSink[] { textfile, csv });

        var error = Assert.Throws<IOException>(() => sink.ExportLast(new MetricSet()));

        Assert.Equal("vms.prom failed", error.Message);
        Assert.Equal((0, 1), (textfile.Exports, textfile.LastExports));
        Assert.Equal(1, csv.Exports); // the interface's default: an ordinary export
    }

    [Fact]
    public void EverySinkGetsTheCycleAndTheFirstFailureIsReported()
    {
        var textfile = new Recording("vms.prom", fail: true);
        var view = new Recording("the terminal");
        var sink = new CompositeSink(new ITextfileSink[] { textfile, view });
        var error = Assert.Throws<IOException>(() => sink.Export(new MetricSet()));
        Assert.Equal("vms.prom failed", error.Message);
        Assert.Equal(1, view.Exports);
        Assert.Equal("vms.prom and the terminal", sink.Destination);
    }
}
