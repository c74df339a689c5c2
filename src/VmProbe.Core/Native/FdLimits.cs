using System.Runtime.InteropServices;

namespace VmProbe.Native;

/// <summary>
/// Process-wide fd accounting under RLIMIT_NOFILE, shared by perf (<c>PerfFdBudget</c>), the procfs sampler's kept
/// files and the KVM stats fds: the open counts of <see cref="SafeFdHandle"/> by kind and the limit itself. Returns errno; callers raise.
/// </summary>
internal static unsafe class FdLimits
{
    /// <summary>fds kept free for everything else the probe opens (libvirt sockets, /proc files, the output file...).</summary>
    internal const int DefaultReservedFds = 256;

    /// <summary>Perf fds open right now in this process (all sessions).</summary>
    internal static long OpenPerfFds => SafeFdHandle.OpenCount(FdKind.PerfEvent);

    /// <summary>Procfs fds kept open across cycles (per-thread schedstat/stat files).</summary>
    internal static long KeptProcfsFds => SafeFdHandle.OpenCount(FdKind.KeptProcfs);

    /// <summary>KVM binary statistics fds duplicated from QEMU and kept across cycles.</summary>
    internal static long KeptKvmStatsFds => SafeFdHandle.OpenCount(FdKind.KvmStats);

    /// <summary>Every fd kept across cycles that is not a perf fd (procfs files, KVM stats fds): what perf's budget counts besides its own.</summary>
    internal static long KeptFds => KeptProcfsFds + KeptKvmStatsFds;

    /// <summary>
    /// Whether <paramref name="additionalFds"/> more kept fds fit under the soft RLIMIT_NOFILE with every kept and perf fd
    /// counted and <paramref name="reservedFds"/> left free; true when the limit cannot be read (the open then fails on its own).
    /// </summary>
    internal static bool Fits(long additionalFds, int reservedFds = DefaultReservedFds) =>
        TryGetNoFileLimit(out var soft, out _) != 0
        || (ulong)(OpenPerfFds + KeptFds + additionalFds + reservedFds) <= soft;

    /// <summary>getrlimit(RLIMIT_NOFILE): 0, or the errno.</summary>
    internal static int TryGetNoFileLimit(out ulong soft, out ulong hard)
    {
        Interop.Libc.RLimit limit;
        if (Interop.Libc.GetRLimit(Interop.Libc.RlimitNoFile, &limit) != 0)
        {
            soft = hard = 0;
            return Marshal.GetLastPInvokeError();
        }

        soft = limit.Current;
        hard = limit.Maximum;
        return 0;
    }

    /// <summary>setrlimit(RLIMIT_NOFILE) with the given soft and hard limits: 0, or the errno.</summary>
    internal static int TrySetNoFileLimit(ulong soft, ulong hard)
    {
        var limit = new Interop.Libc.RLimit { Current = soft, Maximum = hard };
        return Interop.Libc.SetRLimit(Interop.Libc.RlimitNoFile, &limit) != 0 ? Marshal.GetLastPInvokeError() : 0;
    }
}
