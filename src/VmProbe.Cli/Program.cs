using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using VmProbe.Perf;

namespace VmProbe.Cli;

/// <summary>
/// Entry point of <c>vmprobe</c>: SIGINT and SIGTERM request a stop (the cycle in progress is finished and written,
/// then the process exits 0); everything else is in <see cref="ProbeRunner"/>.
/// </summary>
/// <remarks>
/// At a low open-file limit (<c>ulimit -n 64</c>) the runtime keeps two fds per loaded assembly, so an assembly first
/// needed in the middle of a cycle fails to load (FileNotFoundException) when the fds are gone. Main therefore loads up
/// front what a run loads lazily, and nothing escapes it: a failure is one "too many open files" line and exit 1.
/// </remarks>
internal static class Program
{
    /// <summary>What a run loads after start (observed in /proc/PID/fd of a running probe); Console's first.</summary>
    private static readonly string[] LazyAssemblies =
    [
        "Microsoft.Win32.Primitives", "System.Console", "System.Runtime.InteropServices", "System.Text.Encoding.Extensions",
        "System.Threading", "System.Threading.Thread", "System.Collections", "System.Collections.Concurrent", "System.Memory",
        "System.Linq", "System.ObjectModel", "System.Reflection.Primitives", "System.Reflection.Emit.ILGeneration",
        "System.Reflection.Emit.Lightweight", "System.Text.RegularExpressions", "System.Numerics.Vectors", "VmProbe.Core", "YamlDotNet",
    ];

    /// <summary>The lowest hard RLIMIT_NOFILE the runner starts with (the runtime, its threads and libvirt need ~40).</summary>
    internal const ulong MinimumFdLimit = 40;

    private static int Main(string[] args)
    {
        using var stop = new CancellationTokenSource();

        // Only where the open-file limit can leave no fd to start a signal thread with (StopSignals says why), and
        // before anything else holds fds: it may execute the process again, then starts its thread.
        // Below this many fds the runtime's own threads may fail to start, which aborts the process: refuse at once.
        var fdLimits = GetNoFileLimits();
        if (fdLimits is { Hard: > 0 and < MinimumFdLimit } tooLow)
        {
            WriteLast(string.Create(CultureInfo.InvariantCulture,
                $"vmprobe failed: too many open files: RLIMIT_NOFILE allows at most {tooLow.Hard} open files (hard limit), and the .NET runtime and libvirt alone keep about 64 open; vmprobe needs at least {MinimumFdLimit}: raise the limit (ulimit -n, LimitNOFILE=) [EMFILE]"));
            return ProbeRunner.ExitFailure;
        }

        string? signalFallback = null;
        StopSignals? signals;
        try
        {
            signals = fdLimits.Hard < StopSignals.LowFdLimit ? InstallStopSignals(stop, out signalFallback) : null;
        }
        catch (Exception error) when (error is FileNotFoundException or FileLoadException or IOException or OutOfMemoryException or TypeInitializationException)
        {
            // At a limit of a few dozen fds the runtime cannot even load the assembly that starts threads.
            var limit = GetNoFileSoftLimit();
            WriteLast(string.Create(CultureInfo.InvariantCulture,
                $"vmprobe failed: too many open files: RLIMIT_NOFILE is {limit}, and the .NET runtime alone keeps about 64 open, so vmprobe could not start ({error.GetType().Name}: {FirstLine(error.Message)}); raise the limit (ulimit -n, LimitNOFILE=) [EMFILE]"));
            return ProbeRunner.ExitFailure;
        }

        WarmUpThreadPool();
        var preloadFailure = Preload();
        StreamWriter? stderr = null;
        try
        {
            stderr = new StreamWriter(new FdWriteStream(2)) { AutoFlush = true };
            using var stdout = new StreamWriter(new FdWriteStream(1)) { AutoFlush = true };
            if (preloadFailure is not null)
            {
                stderr.WriteLine($"vmprobe: warning: {preloadFailure}");
            }

            PosixSignalRegistration? sigint = null, sigterm = null;
            if (signals is null)
            {
                // The .NET way: needs a new thread (a pipe, two fds) per signal, which a low fd limit can refuse.
                void OnSignal(PosixSignalContext context)
                {
                    // Keep the runtime from terminating the process: the loop returns once the current cycle is written.
                    context.Cancel = true;
                    stop.Cancel();
                }

                try
                {
                    sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
                    sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
                    if (signalFallback is not null)
                    {
                        stderr.WriteLine($"vmprobe: warning: SIGINT and SIGTERM are handled on a thread started per signal ({signalFallback}); at a low open-file limit that thread may fail to start");
                    }
                }
                catch (Exception error)
                {
                    stderr.WriteLine($"vmprobe: warning: SIGINT and SIGTERM end the probe without finishing the cycle: {Describe(error)}");
                }
            }

            using var sigintRegistration = sigint;
            using var sigtermRegistration = sigterm;

            return ProbeRunner.Run(args, DefaultWiring.Create(), stdout, stderr, stop.Token);
        }
        catch (Exception error)
        {
            WriteLast($"vmprobe failed: {Describe(error)}");
            return ProbeRunner.ExitFailure;
        }
    }

    // Its own method: the JIT loads System.Threading.Thread when it compiles StopSignals' callers, inside Main's try.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static StopSignals? InstallStopSignals(CancellationTokenSource stop, out string? fallback) => StopSignals.Install(stop.Cancel, out fallback);

    /// <summary>
    /// Starts the thread pool's gate and worker threads and the timer thread now, while fds are free: the runtime
    /// starts them on first use, and a failed gate-thread start is fatal ("Failed to create the thread pool Gate thread").
    /// </summary>
    private static void WarmUpThreadPool()
    {
        try
        {
            Task.Run(static () => { }).Wait();
            Task.Delay(1).Wait();
        }
        catch (Exception)
        {
            // Nothing could start: the run reports the same condition where it matters.
        }
    }

    /// <summary>Loads <see cref="LazyAssemblies"/>; the fd-exhaustion line for the first that fails, else null.</summary>
    private static string? Preload()
    {
        // NativeAOT: everything is compiled into the one binary, there is no assembly to load (Assembly.Load throws).
        if (!System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported)
        {
            return null;
        }

        foreach (var name in LazyAssemblies)
        {
            try
            {
                Assembly.Load(new AssemblyName(name));
            }
            catch (Exception error)
            {
                return Describe(error);
            }
        }

        return null;
    }

    /// <summary>A failure in one line; a load failure near the open-file limit as what it is, EMFILE.</summary>
    private static string Describe(Exception error)
    {
        try
        {
            if (error is FileNotFoundException or FileLoadException or BadImageFormatException or DllNotFoundException
                or TypeInitializationException or OutOfMemoryException or IOException)
            {
                var limit = GetNoFileSoftLimit();
                var open = CountOpenFds();
                var full = open >= 0 ? (ulong)open + 8 >= limit : limit <= 128;
                if (limit > 0 && full)
                {
                    var counted = open >= 0 ? string.Create(CultureInfo.InvariantCulture, $"{Math.Min((ulong)open, limit)} of the {limit} allowed (RLIMIT_NOFILE) are open") : $"RLIMIT_NOFILE is {limit}";
                    return string.Create(CultureInfo.InvariantCulture,
                        $"too many open files: {counted}, so vmprobe could not open or load what it needs ({error.GetType().Name}: {FirstLine(error.Message)}); the .NET runtime and libvirt alone keep about 64 open: raise the limit (ulimit -n, LimitNOFILE=) [EMFILE]");
                }
            }

            return $"{error.GetType().Name}: {FirstLine(error.Message)}";
        }
        catch (Exception)
        {
            return error.GetType().FullName ?? "failure";
        }
    }

    /// <summary>The soft RLIMIT_NOFILE through the runner's own getrlimit: VmProbe.Core may be what failed to load.</summary>
    private static ulong GetNoFileSoftLimit() => GetNoFileLimits().Soft;

    /// <summary>RLIMIT_NOFILE (0, 0 when getrlimit fails).</summary>
    private static (ulong Soft, ulong Hard) GetNoFileLimits()
    {
        var limit = new ulong[2];
        return Native.Interop.GetRLimit(Native.Interop.RlimitNoFile, limit) == 0 ? (limit[0], limit[1]) : (0, 0);
    }

    /// <summary>The open fds, or -1 when VmProbe.Core cannot load or /proc/self/fd cannot be opened.</summary>
    private static long CountOpenFds()
    {
        try
        {
            return CountOpenFdsWithCore();
        }
        catch (Exception)
        {
            return -1;
        }
    }

    // Its own method: the JIT loads VmProbe.Core when it compiles the caller of PerfFdBudget, here inside CountOpenFds's try.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static long CountOpenFdsWithCore() => PerfFdBudget.CountProcessFds();

    private static string FirstLine(string text) => text.Split('\n', 2)[0].TrimEnd();

    /// <summary>Writes to fd 2 with write(2): Console may be what failed to load.</summary>
    private static void WriteLast(string line)
    {
        try
        {
            var bytes = Encoding.UTF8.GetBytes(line + "\n");
            _ = Native.Interop.Write(2, bytes, bytes.Length);
        }
        catch (Exception)
        {
            // Nothing is left to report with.
        }
    }
}
