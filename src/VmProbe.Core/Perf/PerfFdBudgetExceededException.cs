namespace VmProbe.Perf;

/// <summary>The configured events x targets need more perf fds than RLIMIT_NOFILE allows. ErrorId <c>perf_fd_budget,EMFILE</c>.</summary>
public sealed class PerfFdBudgetExceededException : VmProbeException
{
    public PerfFdBudgetExceededException(string message, long neededFds, ulong limit)
        : base(message, "perf_fd_budget,EMFILE", ProbeErrorKind.ResourceUnavailable)
    {
        NeededFds = neededFds;
        Limit = limit;
        RecommendedAction = "Raise the hard open-file limit (ulimit -Hn, LimitNOFILE=) or count fewer events, VMs or CPUs.";
    }

    public long NeededFds { get; }

    public ulong Limit { get; }
}
