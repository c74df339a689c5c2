using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using VmProbe.Native;
using Xunit;

namespace VmProbe.Tests.Infrastructure;

/// <summary>What the tests of CPU pinning ask: where the calling thread may run and runs, and a thread to pin freely.</summary>
internal static class ThreadCpus
{
    /// <summary>The CPUs the calling thread may run on now (its affinity), ascending.</summary>
    public static List<int> Allowed()
    {
        var affinity = ThreadAffinity.TryCapture();
        Assert.NotNull(affinity);
        return Enumerable.Range(0, 4096).Where(affinity!.Allows).ToList();
    }

    /// <summary>
    /// Runs <paramref name="body"/> on a thread of its own and hands back its result or rethrows what it threw (a skip
    /// included): were an affinity not given back, the test runner's thread would keep it.
    /// </summary>
    public static T OnOwnThread<T>(Func<T> body)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = body();
            }
            catch (Exception error)
            {
                failure = error;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }

        return result;
    }

    /// <summary>sched_getcpu itself: Thread.GetCurrentProcessorId may answer from a cache made before the thread moved.</summary>
    [DllImport("libc", EntryPoint = "sched_getcpu")]
    public static extern int Current();
}
