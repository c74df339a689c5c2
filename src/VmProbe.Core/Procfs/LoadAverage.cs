namespace VmProbe.Procfs;

/// <summary>/proc/loadavg: <c>0.20 0.18 0.12 1/80 11206</c>.</summary>
internal readonly record struct LoadAverage(double Load1, double Load5, double Load15, int RunnableTasks, int TotalTasks, int LastPid)
{
    public static LoadAverage Parse(ReadOnlySpan<byte> content, string path)
    {
        var cursor = ProcText.Trim(content);
        var l1 = ParseDouble(ProcText.NextToken(ref cursor), path, "load1");
        var l5 = ParseDouble(ProcText.NextToken(ref cursor), path, "load5");
        var l15 = ParseDouble(ProcText.NextToken(ref cursor), path, "load15");
        var tasks = ProcText.NextToken(ref cursor);
        var slash = tasks.IndexOf((byte)'/');
        if (slash < 0)
        {
            throw ProcfsException.Parse(path, "field 'tasks' is not 'running/total'");
        }

        var running = ProcText.ParseUInt64(tasks[..slash], path, "running tasks");
        var total = ProcText.ParseUInt64(tasks[(slash + 1)..], path, "total tasks");
        var last = ProcText.ParseUInt64(ProcText.NextToken(ref cursor), path, "last pid");
        return new LoadAverage(l1, l5, l15, (int)running, (int)total, (int)last);
    }

    private static double ParseDouble(ReadOnlySpan<byte> token, string path, string field)
    {
        if (!ProcText.TryParseDouble(token, out var value))
        {
            throw ProcfsException.Parse(path, $"field '{field}' is not a number");
        }

        return value;
    }
}
