using System.Globalization;
using VmProbe.Native;
using VmProbe.Perf;

namespace VmProbe.Composition;

/// <summary>
/// One line for a failure in the cycle's logs. At the open-file limit the runtime cannot open the assembly it loads on
/// first use and says FileNotFoundException (and a thread it cannot start, OutOfMemoryException), which sends the reader after a missing file: name the real cause instead.
/// </summary>
internal static class FailureText
{
    // Within this many fds of the limit, a load failure is taken for fd exhaustion (the runtime maps two fds per assembly).
    private const int Headroom = 8;

    public static string Describe(Exception error)
    {
        if (IsLoadFailure(error) || IsEmfile(error))
        {
            var (soft, _) = PerfFdBudget.GetNoFileLimit();
            var open = ProcessFds.CountOpen();
            var text = Describe(error, open, soft);
            if (text is not null)
            {
                return text;
            }
        }

        return VmProbeException.Describe(error);
    }

    /// <summary>The fd-exhaustion line when <paramref name="openFds"/> is near <paramref name="limit"/>, else null.</summary>
    internal static string? Describe(Exception error, long openFds, ulong limit)
    {
        if (IsEmfile(error))
        {
            // The kernel said so: no guess about the headroom.
            return string.Create(CultureInfo.InvariantCulture,
                $"too many open files: {(openFds < 0 ? "all" : Math.Min((ulong)openFds, limit).ToString(CultureInfo.InvariantCulture))} of the {limit} allowed (RLIMIT_NOFILE) are open ({error.GetType().Name}: {error.Message}); raise the limit (ulimit -n, LimitNOFILE=) [EMFILE]");
        }

        if (!IsLoadFailure(error) || openFds < 0 || (ulong)openFds + Headroom < limit)
        {
            return null;
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"too many open files: {openFds} of the {limit} allowed (RLIMIT_NOFILE) are open, so .NET could not load or start what this needs ({error.GetType().Name}: {error.Message}); raise the limit (ulimit -n, LimitNOFILE=) [EMFILE]");
    }

    /// <summary>.NET's IOException for errno EMFILE (its HResult is the errno), not already one of the probe's own.</summary>
    private static bool IsEmfile(Exception error) =>
        error is IOException { HResult: Errno.EMFILE } and not FileNotFoundException;

    private static bool IsLoadFailure(Exception error) => error switch
    {
        // A thread the runtime cannot create at the limit (it needs fds for it) is reported as OutOfMemoryException.
        FileNotFoundException or FileLoadException or BadImageFormatException or DllNotFoundException or OutOfMemoryException => true,
        TypeInitializationException { InnerException: { } inner } => IsLoadFailure(inner),
        _ => false,
    };
}
