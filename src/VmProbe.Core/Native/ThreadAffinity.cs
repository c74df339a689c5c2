using System.Runtime.InteropServices;

namespace VmProbe.Native;

/// <summary>
/// The calling thread's CPU affinity as it was when captured, so that the thread can be pinned to one CPU for a while
/// and then given back exactly what it had (a cpuset or taskset the user chose included).
/// </summary>
internal sealed unsafe class ThreadAffinity
{
    private const int MaxMaskWords = 1024; // 65,536 CPUs

    private readonly ulong[] _original;
    private readonly ulong[] _single;

    private ThreadAffinity(ulong[] original)
    {
        _original = original;
        _single = new ulong[original.Length];
    }

    /// <summary>The calling thread's affinity now; null when it cannot be read.</summary>
    public static ThreadAffinity? TryCapture()
    {
        // The kernel refuses (EINVAL) a mask shorter than its own CPU count: grow until it fits.
        for (var words = 16; words <= MaxMaskWords; words *= 2)
        {
            var mask = new ulong[words];
            fixed (ulong* p = mask)
            {
                if (Interop.Libc.SchedGetAffinity(0, (nuint)(words * sizeof(ulong)), p) >= 0)
                {
                    return new ThreadAffinity(mask);
                }
            }

            if (Marshal.GetLastPInvokeError() != Errno.EINVAL)
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>Whether the captured affinity lets the thread run on <paramref name="cpu"/>.</summary>
    public bool Allows(int cpu) =>
        cpu >= 0 && cpu / 64 < _original.Length && (_original[cpu / 64] & (1UL << (cpu % 64))) != 0;

    /// <summary>Moves the calling thread to <paramref name="cpu"/> alone; false (the thread where it was) when refused.</summary>
    public bool TryPin(int cpu)
    {
        if (!Allows(cpu))
        {
            return false;
        }

        Array.Clear(_single);
        _single[cpu / 64] = 1UL << (cpu % 64);
        fixed (ulong* p = _single)
        {
            return Interop.Libc.SchedSetAffinity(0, (nuint)(_single.Length * sizeof(ulong)), p) == 0;
        }
    }

    /// <summary>
    /// Gives the calling thread back the affinity it had when captured; should the kernel refuse it (a cpuset shrunk
    /// meanwhile), every CPU, which the kernel narrows to what the thread may use: never left on one CPU.
    /// </summary>
    public void Restore()
    {
        fixed (ulong* p = _original)
        {
            if (Interop.Libc.SchedSetAffinity(0, (nuint)(_original.Length * sizeof(ulong)), p) == 0)
            {
                return;
            }
        }

        Array.Fill(_single, ulong.MaxValue);
        fixed (ulong* p = _single)
        {
            _ = Interop.Libc.SchedSetAffinity(0, (nuint)(_single.Length * sizeof(ulong)), p);
        }
    }
}
