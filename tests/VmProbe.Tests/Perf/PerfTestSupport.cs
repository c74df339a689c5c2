using System.Runtime.InteropServices;
using VmProbe.Native;
using VmProbe.Perf;

namespace VmProbe.Tests.Perf;

internal static class PerfTestSupport
{
    public static readonly PerfEventSpec TaskClock = new("task_clock", PerfEventKind.Software, PerfEventConstants.TypeSoftware, PerfEventConstants.SwTaskClock);
    public static readonly PerfEventSpec CpuClock = new("cpu_clock", PerfEventKind.Software, PerfEventConstants.TypeSoftware, PerfEventConstants.SwCpuClock);
    public static readonly PerfEventSpec ContextSwitches = new("context_switches", PerfEventKind.Software, PerfEventConstants.TypeSoftware, PerfEventConstants.SwContextSwitches);
    public static readonly PerfEventSpec PageFaults = new("page_faults", PerfEventKind.Software, PerfEventConstants.TypeSoftware, PerfEventConstants.SwPageFaults);
    public static readonly PerfEventSpec Cycles = new("cycles", PerfEventKind.Hardware, PerfEventConstants.TypeHardware, PerfEventConstants.HwCpuCycles);

    private static readonly Lazy<string?> WhyNot = new(Probe);

    /// <summary>Null when a software event can be opened on this thread, else why not (for Skip).</summary>
    public static string? WhyPerfUnavailable => WhyNot.Value;

    [DllImport("libc", EntryPoint = "gettid")]
    public static extern int GetTid();

    /// <summary>sum_exec_runtime of a thread of this process, in ns (first field of schedstat).</summary>
    public static ulong ScheduledRunTimeNs(int tid) =>
        ulong.Parse(File.ReadAllText($"/proc/self/task/{tid}/schedstat").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);

    private static string? Probe()
    {
        var attr = new PerfEventAttr { Type = PerfEventConstants.TypeSoftware, Config = PerfEventConstants.SwTaskClock, Flags = PerfAttrFlags.Disabled };
        var errno = PerfEventFd.TryOpen(ref attr, 0, -1, null, 0, out var handle);
        handle?.Dispose();
        if (errno == 0)
        {
            return null;
        }

        var paranoid = File.Exists("/proc/sys/kernel/perf_event_paranoid") ? File.ReadAllText("/proc/sys/kernel/perf_event_paranoid").Trim() : "?";
        return $"perf_event_open not permitted here: {Errno.Name(errno)} (perf_event_paranoid={paranoid}, euid root needed)";
    }
}

/// <summary>A thread with a known TID that does work on request (spin or sleep/wake), then waits again.</summary>
internal sealed class WorkerThread : IDisposable
{
    private readonly Thread thread;
    private readonly SemaphoreSlim go = new(0);
    private readonly SemaphoreSlim done = new(0);
    private readonly ManualResetEventSlim started = new();
    private volatile bool stop;
    private Action? work;

    public WorkerThread()
    {
        thread = new Thread(Run) { IsBackground = true, Name = "perf-test-worker" };
        thread.Start();
        started.Wait();
    }

    public int Tid { get; private set; }

    public void Do(Action action)
    {
        work = action;
        go.Release();
        done.Wait();
    }

    public static void Spin(TimeSpan duration)
    {
        var until = DateTime.UtcNow + duration;
        var x = 0UL;
        while (DateTime.UtcNow < until)
        {
            for (var i = 0; i < 10_000; i++)
            {
                x = (x * 6364136223846793005UL) + 1442695040888963407UL;
            }
        }

        GC.KeepAlive(x);
    }

    /// <summary>Burns CPU until the calling thread has run for <paramref name="cpuTime"/> (by its own schedstat), however busy the machine is.</summary>
    public static void SpinCpu(TimeSpan cpuTime)
    {
        var tid = PerfTestSupport.GetTid();
        var until = PerfTestSupport.ScheduledRunTimeNs(tid) + (ulong)(cpuTime.Ticks * 100);
        var x = 0UL;
        while (PerfTestSupport.ScheduledRunTimeNs(tid) < until)
        {
            for (var i = 0; i < 100_000; i++)
            {
                x = (x * 6364136223846793005UL) + 1442695040888963407UL;
            }
        }

        GC.KeepAlive(x);
    }

    /// <summary>Ends the thread and waits (up to 5 s) until its TID leaves /proc/self/task; false if it is still listed.</summary>
    public bool Exit()
    {
        stop = true;
        go.Release();
        thread.Join();
        return Infrastructure.Requirements.WaitUntilThreadGone(Tid);
    }

    public void Dispose()
    {
        if (thread.IsAlive)
        {
            Exit();
        }
    }

    private void Run()
    {
        Tid = PerfTestSupport.GetTid();
        started.Set();
        while (true)
        {
            go.Wait();
            if (stop)
            {
                return;
            }

            work?.Invoke();
            done.Release();
        }
    }
}

