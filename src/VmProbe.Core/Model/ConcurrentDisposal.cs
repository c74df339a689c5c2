namespace VmProbe;

/// <summary>
/// Disposes independent parts at once, each on a thread of its own but the last, which the caller's thread disposes.
/// For teardowns that mostly wait in the kernel (an eBPF link's RCU grace period) or spend it there (thousands of perf
/// fd closes): one after the other their times add up, side by side the longest one counts.
/// </summary>
internal static class ConcurrentDisposal
{
    /// <summary>Disposes every part; returns the parts whose Dispose threw, with what they threw, in the parts' order.</summary>
    public static List<(IDisposable Part, Exception Error)> DisposeAll(IReadOnlyList<IDisposable> parts, int stackSize = 256 * 1024)
    {
        var errors = new Exception?[parts.Count];
        var started = new List<Thread>(parts.Count);
        var handedOut = 0;
        try
        {
            for (; handedOut < parts.Count - 1; handedOut++)
            {
                var index = handedOut;
                var thread = new Thread(() => errors[index] = TryDispose(parts[index]), stackSize) { IsBackground = true, Name = "vmprobe close" };
                thread.Start();
                started.Add(thread);
            }
        }
        catch (Exception error) when (error is OutOfMemoryException or ThreadStartException)
        {
            // No thread to be had: the parts not handed to one are disposed below, here.
        }
        finally
        {
            for (var i = handedOut; i < parts.Count; i++)
            {
                errors[i] = TryDispose(parts[i]);
            }

            started.ForEach(t => t.Join());
        }

        var failed = new List<(IDisposable, Exception)>();
        for (var i = 0; i < parts.Count; i++)
        {
            if (errors[i] is { } error)
            {
                failed.Add((parts[i], error));
            }
        }

        return failed;
    }

    private static Exception? TryDispose(IDisposable part)
    {
        try
        {
            part.Dispose();
            return null;
        }
        catch (Exception error)
        {
            return error;
        }
    }
}
