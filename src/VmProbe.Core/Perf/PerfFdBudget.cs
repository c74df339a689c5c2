using VmProbe.Native;

namespace VmProbe.Perf;

/// <summary>
/// File-descriptor accounting for perf: estimates what a config needs, raises RLIMIT_NOFILE's soft limit to the hard one,
/// and refuses before opening when the estimate does not fit (a clear error instead of EMFILE half-way through).
/// </summary>
public sealed class PerfFdBudget
{
    /// <summary>fds kept free for everything else the probe opens (libvirt sockets, /proc files, the output file...).</summary>
    public const int DefaultReservedFds = FdLimits.DefaultReservedFds;

    public PerfFdBudget(int reservedFds = DefaultReservedFds)
    {
        ReservedFds = reservedFds;
        var (soft, hard) = GetNoFileLimit();
        if (soft < hard)
        {
            SetNoFileSoftLimit(hard);
            (soft, _) = GetNoFileLimit();
        }

        Limit = soft;
    }

    /// <summary>The soft RLIMIT_NOFILE after raising it.</summary>
    public ulong Limit { get; }

    public int ReservedFds { get; }

    /// <summary>Perf fds open right now in this process (all sessions), for the <c>probe_open_fds</c> metric.</summary>
    public static long OpenPerfFds => FdLimits.OpenPerfFds;

    /// <summary>All fds of this process (/proc/self/fd entries, listed without a stat per entry); -1 when unreadable.</summary>
    public static int CountProcessFds() => ProcessFds.CountOpen();

    /// <summary>fds needed for <paramref name="events"/> events on each of <paramref name="targets"/> targets, each on
    /// <paramref name="cpusPerTarget"/> CPUs (1 for thread targets).</summary>
    public static long Estimate(int events, int targets, int cpusPerTarget = 1) => (long)events * targets * Math.Max(1, cpusPerTarget);

    /// <summary>Procfs fds kept open across cycles (per-thread schedstat/stat files); they count against the same limit.</summary>
    public static long KeptProcfsFds => FdLimits.KeptProcfsFds;

    /// <summary>
    /// Whether <paramref name="additionalFds"/> more perf fds fit under the limit, counting the kept procfs fds and keeping
    /// <see cref="ReservedFds"/> free. The procfs sampler keeps fds only below a ceiling that leaves perf room first.
    /// </summary>
    public bool Fits(long additionalFds) => (ulong)(OpenPerfFds + FdLimits.KeptFds + additionalFds + ReservedFds) <= Limit;

    /// <summary>Throws <see cref="PerfFdBudgetExceededException"/> when <paramref name="additionalFds"/> do not fit.</summary>
    public void EnsureFits(long additionalFds, string what)
    {
        if (!Fits(additionalFds))
        {
            throw new PerfFdBudgetExceededException(
                $"{what} needs {additionalFds} perf file descriptors; {OpenPerfFds} are open (and {KeptProcfsFds} kept procfs files) and {ReservedFds} are kept for other files, "
                + $"but RLIMIT_NOFILE is {Limit}",
                additionalFds,
                Limit);
        }
    }

    public static (ulong Soft, ulong Hard) GetNoFileLimit()
    {
        var errno = FdLimits.TryGetNoFileLimit(out var soft, out var hard);
        if (errno != 0)
        {
            throw new VmProbeException($"getrlimit(RLIMIT_NOFILE) failed: {Errno.Describe(errno)}", "getrlimit," + Errno.Name(errno), PerfEventException.KindOf(errno));
        }

        return (soft, hard);
    }

    private static void SetNoFileSoftLimit(ulong soft)
    {
        var (_, hard) = GetNoFileLimit();
        var errno = FdLimits.TrySetNoFileLimit(soft, hard);
        if (errno != 0)
        {
            throw new VmProbeException($"setrlimit(RLIMIT_NOFILE, {soft}) failed: {Errno.Describe(errno)}", "setrlimit," + Errno.Name(errno), PerfEventException.KindOf(errno));
        }
    }
}
