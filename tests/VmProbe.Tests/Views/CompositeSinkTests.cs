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
