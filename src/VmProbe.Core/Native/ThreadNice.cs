using System.Runtime.InteropServices;

namespace VmProbe.Native;

/// <summary>
/// A thread's nice value lowered for a while and given back, possibly from another thread: the thread id is kept, as
/// setpriority takes one. Best effort both ways: a refusal leaves the thread as it was.
/// </summary>
internal sealed class ThreadNice
{
    /// <summary>The nice value of a thread that should run only where nothing else wants the CPU.</summary>
    public const int Lowest = 19;

    private readonly int _tid;
    private readonly int _original;

    private ThreadNice(int tid, int original)
    {
        _tid = tid;
        _original = original;
    }

    /// <summary>
    /// Lowers the calling thread to <see cref="Lowest"/>; null when its nice value cannot be read or set, or when it
    /// could not be raised back (no CAP_SYS_NICE and an RLIMIT_NICE below it: a container's root often lacks the
    /// capability), since a thread left low could wait long on a busy host.
    /// </summary>
    public static ThreadNice? TryLowerCurrent()
    {
        int tid;
        try
        {
            tid = Interop.Libc.GetTid();
        }
        catch (EntryPointNotFoundException)
        {
            return null; // glibc before 2.30
        }

        Marshal.SetLastPInvokeError(0);
        var original = Interop.Libc.GetPriority(Interop.Libc.PrioProcess, tid);
        if ((original == -1 && Marshal.GetLastPInvokeError() != 0) || original >= Lowest || !MayRaiseTo(original))
        {
            return null;
        }

        return Interop.Libc.SetPriority(Interop.Libc.PrioProcess, tid, Lowest) == 0 ? new ThreadNice(tid, original) : null;
    }

    // The kernel's can_nice: RLIMIT_NICE at least 20 - nice, or CAP_SYS_NICE in the effective set.
    private static unsafe bool MayRaiseTo(int nice)
    {
        Interop.Libc.RLimit limit;
        if (Interop.Libc.GetRLimit(Interop.Libc.RlimitNice, &limit) == 0 && limit.Current >= (ulong)(20 - nice))
        {
            return true;
        }

        return HasEffectiveCapability(File.Exists("/proc/thread-self/status") ? "/proc/thread-self/status" : "/proc/self/status", CapSysNice);
    }

    internal const int CapSysNice = 23;

    /// <summary>Whether the <c>CapEff:</c> line of a status file has capability bit <paramref name="bit"/>; false when unreadable.</summary>
    internal static bool HasEffectiveCapability(string statusPath, int bit)
    {
        try
        {
            foreach (var line in File.ReadLines(statusPath))
            {
                if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                {
                    return ulong.TryParse(line.AsSpan(7).Trim(), System.Globalization.NumberStyles.HexNumber, null, out var caps)
                        && (caps & (1UL << bit)) != 0;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return false;
    }

    /// <summary>Gives the thread its nice value back; false when refused (not root: it stays low) or the thread is gone.</summary>
    public bool TryRestore() => Interop.Libc.SetPriority(Interop.Libc.PrioProcess, _tid, _original) == 0;
}
