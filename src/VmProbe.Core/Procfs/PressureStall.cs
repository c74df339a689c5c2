namespace VmProbe.Procfs;

/// <summary>
/// One /proc/pressure/{cpu,memory,io} file (PSI): cumulative stall time of the <c>some</c> and <c>full</c> lines
/// in seconds (the kernel's total= is microseconds). <see cref="FullSeconds"/> is null where the kernel has no
/// <c>full</c> line (cpu before 5.13).
/// </summary>
internal sealed record PressureStall(string Resource, double SomeSeconds, double? FullSeconds, double SomeAvg10, double? FullAvg10)
{
    /// <summary>The resources PSI reports, as file names under /proc/pressure.</summary>
    public static readonly string[] Resources = { "cpu", "memory", "io" };

    public static PressureStall Parse(ReadOnlySpan<byte> content, string resource, string path)
    {
        double? some = null, full = null, someAvg10 = null, fullAvg10 = null;
        var rest = content;
        while (ProcText.NextLine(ref rest, out var line))
        {
            var cursor = line;
            var kind = ProcText.NextToken(ref cursor);
            var isSome = ProcText.Equals(kind, "some");
            if (!isSome && !ProcText.Equals(kind, "full"))
            {
                continue;
            }

            double? total = null, avg10 = null;
            while (true)
            {
                var token = ProcText.NextToken(ref cursor);
                if (token.IsEmpty)
                {
                    break;
                }

                if (!ProcText.SplitKey(token, (byte)'=', out var key, out var value))
                {
                    continue;
                }

                if (ProcText.Equals(key, "total"))
                {
                    total = ProcText.ParseUInt64(value, path, "total") / 1e6;
                }
                else if (ProcText.Equals(key, "avg10") && ProcText.TryParseDouble(value, out var a))
                {
                    avg10 = a;
                }
            }

            if (total is null)
            {
                throw ProcfsException.Parse(path, $"'{(isSome ? "some" : "full")}' line has no total=");
            }

            if (isSome)
            {
                some = total;
                someAvg10 = avg10;
            }
            else
            {
                full = total;
                fullAvg10 = avg10;
            }
        }

        if (some is null)
        {
            throw ProcfsException.Parse(path, "no 'some' line");
        }

        return new PressureStall(resource, some.Value, full, someAvg10 ?? 0, fullAvg10);
    }
}
