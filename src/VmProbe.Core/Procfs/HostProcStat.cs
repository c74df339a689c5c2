namespace VmProbe.Procfs;

/// <summary>CPU time by mode from one <c>cpu</c> line of /proc/stat, in seconds (ticks divided by USER_HZ).</summary>
internal readonly record struct CpuModeTimes(
    double User,
    double Nice,
    double System,
    double Idle,
    double IoWait,
    double Irq,
    double SoftIrq,
    double Steal,
    double Guest,
    double GuestNice)
{
    /// <summary>The mode label values, in /proc/stat column order, as <c>host_cpu_seconds_total{mode}</c> uses them.</summary>
    public static readonly string[] ModeNames = { "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice" };

    /// <summary>The value of mode <paramref name="index"/> in <see cref="ModeNames"/> order.</summary>
    public double this[int index] => index switch
    {
        0 => User,
        1 => Nice,
        2 => System,
        3 => Idle,
        4 => IoWait,
        5 => Irq,
        6 => SoftIrq,
        7 => Steal,
        8 => Guest,
        9 => GuestNice,
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };
}

/// <summary>The parts of /proc/stat VmProbe uses.</summary>
internal sealed class HostProcStat
{
    /// <summary>The aggregate <c>cpu</c> line.</summary>
    public CpuModeTimes Total { get; init; }

    /// <summary>The <c>cpuN</c> lines, indexed by position (offline CPUs are absent from the file).</summary>
    public IReadOnlyList<(int Cpu, CpuModeTimes Times)> PerCpu { get; init; } = Array.Empty<(int, CpuModeTimes)>();

    /// <summary><c>ctxt</c>: context switches since boot.</summary>
    public ulong ContextSwitches { get; init; }

    /// <summary><c>processes</c>: forks since boot.</summary>
    public ulong ProcessesCreated { get; init; }

    public ulong ProcsRunning { get; init; }

    public ulong ProcsBlocked { get; init; }

    /// <summary>Parses /proc/stat content; <paramref name="ticksPerSecond"/> is USER_HZ (sysconf(_SC_CLK_TCK)).</summary>
    public static HostProcStat Parse(ReadOnlySpan<byte> content, string path, double ticksPerSecond, bool includePerCpu = false)
    {
        CpuModeTimes? total = null;
        List<(int, CpuModeTimes)>? perCpu = includePerCpu ? new List<(int, CpuModeTimes)>() : null;
        ulong ctxt = 0, processes = 0, running = 0, blocked = 0;
        var rest = content;
        while (ProcText.NextLine(ref rest, out var line))
        {
            var cursor = line;
            var key = ProcText.NextToken(ref cursor);
            if (key.Length >= 3 && key[0] == (byte)'c' && key[1] == (byte)'p' && key[2] == (byte)'u')
            {
                if (key.Length == 3)
                {
                    total = ParseCpuLine(cursor, path, ticksPerSecond, "cpu");
                }
                else if (perCpu is not null && ProcText.TryParseInt64(key[3..], out var cpu))
                {
                    perCpu.Add(((int)cpu, ParseCpuLine(cursor, path, ticksPerSecond, "cpu" + cpu)));
                }
            }
            else if (ProcText.Equals(key, "ctxt"))
            {
                ctxt = ProcText.ParseUInt64(ProcText.NextToken(ref cursor), path, "ctxt");
            }
            else if (ProcText.Equals(key, "processes"))
            {
                processes = ProcText.ParseUInt64(ProcText.NextToken(ref cursor), path, "processes");
            }
            else if (ProcText.Equals(key, "procs_running"))
            {
                running = ProcText.ParseUInt64(ProcText.NextToken(ref cursor), path, "procs_running");
            }
            else if (ProcText.Equals(key, "procs_blocked"))
            {
                blocked = ProcText.ParseUInt64(ProcText.NextToken(ref cursor), path, "procs_blocked");
            }
        }

        if (total is null)
        {
            throw ProcfsException.Parse(path, "no aggregate 'cpu' line");
        }

        return new HostProcStat
        {
            Total = total.Value,
            PerCpu = (IReadOnlyList<(int, CpuModeTimes)>?)perCpu ?? Array.Empty<(int, CpuModeTimes)>(),
            ContextSwitches = ctxt,
            ProcessesCreated = processes,
            ProcsRunning = running,
            ProcsBlocked = blocked,
        };
    }

    private static CpuModeTimes ParseCpuLine(ReadOnlySpan<byte> cursor, string path, double hz, string lineName)
    {
        // Older kernels have fewer columns (steal since 2.6.11, guest 2.6.24, guest_nice 2.6.33): missing ones are 0.
        Span<double> v = stackalloc double[10];
        for (var i = 0; i < v.Length; i++)
        {
            var token = ProcText.NextToken(ref cursor);
            if (token.IsEmpty)
            {
                if (i < 4)
                {
                    throw ProcfsException.Parse(path, $"line '{lineName}' has only {i} column(s), expected at least 4");
                }

                break;
            }

            if (!ProcText.TryParseUInt64(token, out var ticks))
            {
                throw ProcText.NotUnsigned(token, path, lineName + " " + CpuModeTimes.ModeNames[i]);
            }

            v[i] = ticks / hz;
        }

        return new CpuModeTimes(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]);
    }
}
