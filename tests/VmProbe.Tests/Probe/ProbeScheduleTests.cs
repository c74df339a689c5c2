using Xunit;
using VmProbe.Composition;

namespace VmProbe.Tests.Probe;

public class ProbeScheduleTests
{
    [Theory]
    [InlineData(0, 1000, 0, 120, 1, 1000, 0)]       // cycle done early: next tick, nothing skipped
    [InlineData(0, 1000, 0, 999, 1, 1000, 0)]
    [InlineData(0, 1000, 0, 1000, 2, 2000, 1)]      // finished exactly on the next tick: it is not in the future, skip it
    [InlineData(0, 1000, 0, 2500, 3, 3000, 2)]      // overran two ticks
    [InlineData(500, 1000, 4, 4600, 5, 5500, 0)]    // offset start, tick 4 (4500) done at 4600
    [InlineData(500, 1000, 4, 9400, 9, 9500, 4)]
    [InlineData(1000, 5000, 0, 900, 1, 6000, 0)]    // clock earlier than start (cannot happen, stays sane)
    public void NextTickIsTheFirstTickInTheFuture(long start, long delay, long current, long now, long tick, long due, long skipped)
    {
        var next = ProbeSchedule.Next(start, delay, current, now);
        Assert.Equal((tick, due, skipped), next);
    }

    [Fact]
    public void TicksDoNotDriftOverAWeekOfCycles()
    {
        const long delay = 5000;
        long tick = 0;
        const long start = 123_456_789;

        // Every cycle takes 37 ms; the grid stays at start + k*delay instead of accumulating 37 ms per cycle.
        for (var i = 0; i < 120_960; i++)
        {
            var next = ProbeSchedule.Next(start, delay, tick, start + (tick * delay) + 37);
            Assert.Equal(0, next.Skipped);
            tick = next.Tick;
        }

        Assert.Equal(120_960, tick);
    }

    [Fact]
    public void ANonPositiveDelayIsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ProbeSchedule.Next(0, 0, 0, 0));
}
