using System.Collections;
using System.Runtime.InteropServices;
using System.Text;
using VmProbe.Cli.Native;

namespace VmProbe.Cli;

/// <summary>
/// SIGTERM and SIGINT as a stop request that needs no new thread and no free file descriptor when it arrives.
/// </summary>
/// <remarks>
/// Why: .NET runs both on a thread it starts per signal (PosixSignalRegistration; the runtime's own SIGTERM path does
/// the same), and CoreCLR starts every thread through a pipe (two fds). At a low RLIMIT_NOFILE (ulimit -n 64) the
/// runtime's own files leave two or fewer free, so a signal arriving while a cycle held one could not start that thread:
/// an OutOfMemoryException on the signal thread, "Out of memory." and SIGABRT. Here the two signals are blocked in every
/// thread and taken by sigwaitinfo on one thread started at startup, while fds are still free. Threads the runtime
/// started before Main did not inherit the mask, so the process first executes itself again with the signals blocked
/// (execve keeps the pid, the mask and a signal already pending).
/// </remarks>
internal sealed class StopSignals
{
    /// <summary>Set in the re-executed process, so a runtime that unblocked the signals cannot make it loop.</summary>
    internal const string ReexecMarker = "VMPROBE_STOP_SIGNALS_BLOCKED";

    /// <summary>
    /// Below this hard RLIMIT_NOFILE (the most the runner can raise its soft limit to) the runtime's own ~60 fds can
    /// leave none for a thread's start; above it the .NET signal handling is kept (no second execve at startup).
    /// </summary>
    internal const ulong LowFdLimit = 1024;

    private const int SigInt = 2;
    private const int SigTerm = 15;

    private readonly Action _onStop;

    private StopSignals(Action onStop) => _onStop = onStop;

    /// <summary>
    /// Starts the waiting thread when both signals are blocked in this process; otherwise blocks them and executes the
    /// process again (no return). Null, with the reason, when that is impossible: the caller then registers the signals
    /// the .NET way.
    /// </summary>
    public static StopSignals? Install(Action onStop, out string? reason)
    {
        var blocked = new ulong[Interop.SigsetWords];
        var error = Interop.PthreadSigmask(Interop.SigBlock, null, blocked);
        if (error != 0)
        {
            reason = $"pthread_sigmask failed (error {error})";
            return null;
        }

        var wanted = SetOf(SigInt, SigTerm);
        if ((blocked[0] & wanted[0]) == wanted[0])
        {
            var signals = new StopSignals(onStop);
            new Thread(signals.Wait) { IsBackground = true, Name = "vmprobe-signals" }.Start();
            reason = null;
            return signals;
        }

        if (Environment.GetEnvironmentVariable(ReexecMarker) is not null)
        {
            reason = "the runtime unblocked SIGINT and SIGTERM after execve";
            return null;
        }

        reason = Reexecute(wanted, blocked);
        return null;
    }

    /// <summary>Blocks the signals and executes this program again with the same arguments; returns why it could not.</summary>
    private static string Reexecute(ulong[] wanted, ulong[] previous)
    {
        // The resolved path, not /proc/self/exe: the process keeps its name (dotnet, vmprobe) in ps and pgrep.
        if (Environment.ProcessPath is not { } program)
        {
            return "the program's path is unknown";
        }

        string[] argv;
        try
        {
            argv = Encoding.UTF8.GetString(File.ReadAllBytes("/proc/self/cmdline")).TrimEnd('\0').Split('\0');
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return $"cannot read /proc/self/cmdline: {error.Message}";
        }

        var environment = new List<string>();
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            environment.Add($"{entry.Key}={entry.Value}");
        }

        environment.Add($"{ReexecMarker}=1");
        var argvPointers = ToPointers(argv);
        var envPointers = ToPointers(environment);
        try
        {
            var error = Interop.PthreadSigmask(Interop.SigBlock, wanted, null);
            if (error != 0)
            {
                return $"pthread_sigmask failed (error {error})";
            }

            Interop.ExecVe(program, argvPointers, envPointers);
            var errno = Marshal.GetLastPInvokeError();
            _ = Interop.PthreadSigmask(Interop.SigSetMask, previous, null);
            return $"execve {program} failed (errno {errno})";
        }
        finally
        {
            Free(argvPointers);
            Free(envPointers);
        }
    }

    private void Wait()
    {
        var set = SetOf(SigInt, SigTerm);
        var info = new byte[Interop.SiginfoBytes];
        while (true)
        {
            // -1 is EINTR (a stop/continue); a second signal during the last cycle is taken and ignored, as before.
            if (Interop.SigWaitInfo(set, info) is SigInt or SigTerm)
            {
                _onStop();
            }
        }
    }

    private static ulong[] SetOf(params int[] signals)
    {
        var set = new ulong[Interop.SigsetWords];
        foreach (var signal in signals)
        {
            set[(signal - 1) / 64] |= 1UL << ((signal - 1) % 64);
        }

        return set;
    }

    private static nint[] ToPointers(IReadOnlyList<string> strings)
    {
        var pointers = new nint[strings.Count + 1];
        for (var i = 0; i < strings.Count; i++)
        {
            pointers[i] = Marshal.StringToCoTaskMemUTF8(strings[i]);
        }

        return pointers;
    }

    private static void Free(nint[] pointers)
    {
        foreach (var pointer in pointers)
        {
            Marshal.FreeCoTaskMem(pointer);
        }
    }
}
