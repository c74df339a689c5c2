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

    /// <summary>Lowers the calling thread to <see cref="Lowest"/>; null when its nice value cannot be read or set.</summary>
    public static ThreadNice? TryLowerCurrent()
    {
        var tid = Interop.Libc.GetTid();
        Marshal.SetLastPInvokeError(0);
        var original = Interop.Libc.GetPriority(Interop.Libc.PrioProcess, tid);
        if ((original == -1 && Marshal.GetLastPInvokeError() != 0) || original >= Lowest)
        {
            return null;
        }

        return Interop.Libc.SetPriority(Interop.Libc.PrioProcess, tid, Lowest) == 0 ? new ThreadNice(tid, original) : null;
    }

    /// <summary>Gives the thread its nice value back; false when refused (not root: it stays low) or the thread is gone.</summary>
    public bool TryRestore() => Interop.Libc.SetPriority(Interop.Libc.PrioProcess, _tid, _original) == 0;
}
