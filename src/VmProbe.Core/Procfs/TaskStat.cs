namespace VmProbe.Procfs;

/// <summary>
/// The numeric fields of /proc/PID/stat or /proc/PID/task/TID/stat VmProbe uses. CPU times are in clock ticks
/// (USER_HZ). The comm is not kept here (read it with <see cref="ProcFs.TryReadTaskComm"/>) so the hot path allocates nothing.
/// </summary>
internal readonly record struct TaskStat(
    char State,
    int ParentPid,
    ulong MinorFaults,
    ulong MajorFaults,
    ulong UserTicks,
    ulong SystemTicks,
    long NumThreads,
    ulong StartTimeTicks,
    int LastCpu,
    ulong GuestTicks,
    int Policy = 0)
{
    /// <summary>SCHED_FIFO and SCHED_RR (sched(7)): a real-time thread, which may keep its CPU from others indefinitely.</summary>
    public bool IsRealTime => Policy is 1 or 2;

    /// <summary>
    /// Where to open the thread's counters from (<c>Perf/OnTargetCpu</c>): its last CPU, or -1 for a real-time thread,
    /// which could keep a probe pinned behind it from running at all.
    /// </summary>
    public int CpuHint => IsRealTime ? -1 : LastCpu;

    /// <summary>
    /// Parses a stat line. The comm (field 2) may contain spaces and parentheses (<c>(CPU 0/TCG)</c>, or a process
    /// that names itself <c>a) b</c>), so the fields are counted from after the LAST <c>)</c>.
    /// </summary>
    public static TaskStat Parse(ReadOnlySpan<byte> content, string path) => Parse(content, path, out _);

    /// <summary>As <see cref="Parse(ReadOnlySpan{byte}, string)"/>, also returning the comm bytes (between the first '(' and the last ')').</summary>
    public static TaskStat Parse(ReadOnlySpan<byte> content, string path, out ReadOnlySpan<byte> comm)
    {
        var open = content.IndexOf((byte)'(');
        var close = content.LastIndexOf((byte)')');
        if (open < 0 || close < open)
        {
            throw ProcfsException.Parse(path, "no '(comm)' field");
        }

        comm = content[(open + 1)..close];
        var cursor = content[(close + 1)..];

        // Field numbers as in proc(5): 3 = state.
        var state = ProcText.NextToken(ref cursor);
        if (state.Length != 1)
        {
            throw ProcfsException.Parse(path, "field 'state' is not one character");
        }

        int ppid = 0, lastCpu = -1, policy = 0;
        ulong minflt = 0, majflt = 0, utime = 0, stime = 0, start = 0, guest = 0;
        long threads = 0;
        var field = 3;
        while (true)
        {
            var token = ProcText.NextToken(ref cursor);
            if (token.IsEmpty)
            {
                break;
            }

            field++;
            switch (field)
            {
                case 4:
                    ppid = (int)ProcText.ParseUInt64(token, path, "ppid");
                    break;
                case 10:
                    minflt = ProcText.ParseUInt64(token, path, "minflt");
                    break;
                case 12:
                    majflt = ProcText.ParseUInt64(token, path, "majflt");
                    break;
                case 14:
                    utime = ProcText.ParseUInt64(token, path, "utime");
                    break;
                case 15:
                    stime = ProcText.ParseUInt64(token, path, "stime");
                    break;
                case 20:
                    threads = (long)ProcText.ParseUInt64(token, path, "num_threads");
                    break;
                case 22:
                    start = ProcText.ParseUInt64(token, path, "starttime");
                    break;
                case 39:
                    lastCpu = (int)ProcText.ParseUInt64(token, path, "processor");
                    break;
                case 41:
                    policy = (int)ProcText.ParseUInt64(token, path, "policy");
                    break;
                case 43:
                    guest = ProcText.ParseUInt64(token, path, "guest_time");
                    break;
            }
        }

        if (field < 22)
        {
            throw ProcfsException.Parse(path, $"only {field} fields, expected at least 22");
        }

        return new TaskStat((char)state[0], ppid, minflt, majflt, utime, stime, threads, start, lastCpu, guest, policy);
    }
}
