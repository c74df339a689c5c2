using System.Runtime.CompilerServices;

namespace VmProbe.Tests.Infrastructure;

/// <summary>Process-wide settings of the test run, applied once when the test assembly loads.</summary>
internal static class TestProcessSetup
{
    /// <summary>
    /// Many tests block a pool thread (waiting on real domains, processes, sockets) while others run beside them, and the
    /// pool adds threads only about twice a second beyond its minimum: servers under test that run on the pool (the
    /// guest endpoint, sinks) then answered seconds late on a loaded machine. A higher minimum removes that wait; the
    /// product's own processes do not block their pool.
    /// </summary>
    [ModuleInitializer]
    internal static void RaiseThreadPoolMinimum()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(io, 64));
    }
}
