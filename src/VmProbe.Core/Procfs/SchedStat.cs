namespace VmProbe.Procfs;

/// <summary>
/// Scheduler statistics of a task (/proc/PID/task/TID/schedstat) or summed over CPUs (/proc/schedstat):
/// time spent running on a CPU, time spent runnable but waiting for a CPU (steal as the host sees it), both in
/// nanoseconds, and the number of timeslices run.
/// </summary>
internal readonly record struct SchedStat(ulong RunNanoseconds, ulong WaitNanoseconds, ulong Timeslices)
{
    public double RunSeconds => RunNanoseconds / 1e9;

    public double WaitSeconds => WaitNanoseconds / 1e9;

    public static SchedStat operator +(SchedStat a, SchedStat b) =>
        new(a.RunNanoseconds + b.RunNanoseconds, a.WaitNanoseconds + b.WaitNanoseconds, a.Timeslices + b.Timeslices);

    /// <summary>Parses the three numbers of /proc/PID/task/TID/schedstat.</summary>
    public static SchedStat ParseTask(ReadOnlySpan<byte> content, string path)
    {
        var cursor = content;
        var run = ProcText.ParseUInt64(ProcText.Trim(ProcText.NextToken(ref cursor)), path, "run time");
        var wait = ProcText.ParseUInt64(ProcText.Trim(ProcText.NextToken(ref cursor)), path, "wait time");
        var slices = ProcText.ParseUInt64(ProcText.Trim(ProcText.NextToken(ref cursor)), path, "timeslices");
        return new SchedStat(run, wait, slices);
    }

    /// <summary>
    /// Parses /proc/schedstat (version 15 and later keep the same cpu lines): the last three fields of each
    /// <c>cpuN</c> line are rq_cpu_time, run_delay and pcount; <c>domainN</c> lines are ignored.
    /// </summary>
    public static SchedStat ParseHost(ReadOnlySpan<byte> content, string path, out int cpuCount)
    {
        var rest = content;
        var sawVersion = false;
        var sum = default(SchedStat);
        cpuCount = 0;
        while (ProcText.NextLine(ref rest, out var line))
        {
            var cursor = line;
            var key = ProcText.NextToken(ref cursor);
            if (ProcText.Equals(key, "version"))
            {
                var version = ProcText.ParseUInt64(ProcText.NextToken(ref cursor), path, "version");
                if (version < 15)
                {
                    throw ProcfsException.Parse(path, $"schedstat version {version} is not supported (15 or later)");
                }

                sawVersion = true;
            }
            else if (key.Length > 3 && key[0] == (byte)'c' && key[1] == (byte)'p' && key[2] == (byte)'u')
            {
                // Keep a sliding window of the last three fields (every field of a cpu line is a number).
                ulong a = 0, b = 0, c = 0;
                var fields = 0;
                while (true)
                {
                    var token = ProcText.NextToken(ref cursor);
                    if (token.IsEmpty)
                    {
                        break;
                    }

                    a = b;
                    b = c;
                    if (!ProcText.TryParseUInt64(token, out c))
                    {
                        throw ProcfsException.Parse(path, $"line '{System.Text.Encoding.ASCII.GetString(key)}' field {fields + 1} is not an unsigned integer");
                    }

                    fields++;
                }

                if (fields < 3)
                {
                    throw ProcfsException.Parse(path, $"line '{System.Text.Encoding.ASCII.GetString(key)}' has fewer than 3 fields");
                }

                sum += new SchedStat(a, b, c);
                cpuCount++;
            }
        }

        if (!sawVersion)
        {
            throw ProcfsException.Parse(path, "no 'version' line");
        }

        return sum;
    }
}
