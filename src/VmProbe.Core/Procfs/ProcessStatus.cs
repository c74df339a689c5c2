namespace VmProbe.Procfs;

/// <summary>The fields of /proc/PID/status VmProbe uses. VmRSS is 0 for kernel threads (no such line).</summary>
internal sealed record ProcessStatus(
    string Name,
    int Threads,
    ulong VmRssBytes,
    ulong VoluntaryContextSwitches,
    ulong NonvoluntaryContextSwitches)
{
    public static ProcessStatus Parse(ReadOnlySpan<byte> content, string path)
    {
        string? name = null;
        int threads = 0;
        ulong rss = 0, voluntary = 0, nonvoluntary = 0;
        var rest = content;
        while (ProcText.NextLine(ref rest, out var line))
        {
            if (!ProcText.SplitKey(line, (byte)':', out var key, out var value))
            {
                continue;
            }

            if (ProcText.Equals(key, "Name"))
            {
                // The kernel escapes '\n' and '\\' in Name; other bytes are raw.
                name = System.Text.Encoding.UTF8.GetString(value);
            }
            else if (ProcText.Equals(key, "Threads"))
            {
                threads = (int)ProcText.ParseUInt64(value, path, "Threads");
            }
            else if (ProcText.Equals(key, "VmRSS"))
            {
                var cursor = value;
                rss = ProcText.ParseUInt64(ProcText.NextToken(ref cursor), path, "VmRSS") * 1024;
            }
            else if (ProcText.Equals(key, "voluntary_ctxt_switches"))
            {
                voluntary = ProcText.ParseUInt64(value, path, "voluntary_ctxt_switches");
            }
            else if (ProcText.Equals(key, "nonvoluntary_ctxt_switches"))
            {
                nonvoluntary = ProcText.ParseUInt64(value, path, "nonvoluntary_ctxt_switches");
            }
        }

        if (name is null)
        {
            throw ProcfsException.Parse(path, "no 'Name:' line");
        }

        return new ProcessStatus(name, threads, rss, voluntary, nonvoluntary);
    }
}
