using System.Runtime.InteropServices;
using VmProbe.Native;
using Xunit;

namespace VmProbe.Tests.Native;

public class ThreadAffinityTests
{
    [SkippableFact]
    public void PinsTheCallingThreadToOneCpuAndGivesBackWhatItHad()
    {
        // A thread of its own: the test runner's thread keeps its affinity whatever happens here.
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                var before = ThreadAffinity.TryCapture();
                Assert.NotNull(before);
                var allowed = Enumerable.Range(0, Environment.ProcessorCount * 4).Where(before!.Allows).ToList();
                Skip.If(allowed.Count < 2, $"this thread may run on {allowed.Count} CPU: pinning cannot be told from not moving");
                foreach (var cpu in allowed)
                {
                    Assert.True(before.TryPin(cpu), $"pin to CPU {cpu}");
                    Assert.Equal(cpu, SchedGetCpu());
                    Assert.Equal(new[] { cpu }, AllowedNow(allowed));
                }

                Assert.False(before.TryPin(-1));
                before.Restore();
                Assert.Equal(allowed, AllowedNow(allowed));
            }
            catch (Exception error)
            {
                failure = error;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is SkipException skip)
        {
            throw skip;
        }

        Assert.Null(failure);
    }

    private static List<int> AllowedNow(List<int> candidates)
    {
        var now = ThreadAffinity.TryCapture();
        Assert.NotNull(now);
        return candidates.Where(now!.Allows).ToList();
    }

    // sched_getcpu itself: Thread.GetCurrentProcessorId may answer from a cache made before the thread moved.
    [DllImport("libc", EntryPoint = "sched_getcpu")]
    private static extern int SchedGetCpu();
}
