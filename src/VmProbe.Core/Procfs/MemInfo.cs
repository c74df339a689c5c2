namespace VmProbe.Procfs;

/// <summary>/proc/meminfo: every field by its kernel name (for example <c>MemAvailable</c>), in bytes.</summary>
internal sealed class MemInfo
{
    private readonly Dictionary<string, ulong> _fields;

    private MemInfo(Dictionary<string, ulong> fields) => _fields = fields;

    public IReadOnlyDictionary<string, ulong> Fields => _fields;

    public ulong? this[string name] => _fields.TryGetValue(name, out var v) ? v : null;

    public bool TryGet(string name, out ulong bytes) => _fields.TryGetValue(name, out bytes);

    /// <summary>Parses <c>Name:   value kB</c> lines; values without a unit (HugePages_Total) are kept as counts.</summary>
    public static MemInfo Parse(ReadOnlySpan<byte> content, string path)
    {
        var fields = new Dictionary<string, ulong>(64, StringComparer.Ordinal);
        var rest = content;
        while (ProcText.NextLine(ref rest, out var line))
        {
            if (line.IsEmpty)
            {
                continue;
            }

            if (!ProcText.SplitKey(line, (byte)':', out var key, out var value))
            {
                throw ProcfsException.Parse(path, $"line '{System.Text.Encoding.ASCII.GetString(line)}' has no 'Name:'");
            }

            var name = System.Text.Encoding.ASCII.GetString(key);
            var cursor = value;
            var number = ProcText.ParseUInt64(ProcText.NextToken(ref cursor), path, name);
            var unit = ProcText.NextToken(ref cursor);
            fields[name] = ProcText.Equals(unit, "kB") ? number * 1024 : number;
        }

        return new MemInfo(fields);
    }
}
