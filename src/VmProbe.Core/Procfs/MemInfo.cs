namespace VmProbe.Procfs;

/// <summary>/proc/meminfo: each field by its kernel name (for example <c>MemAvailable</c>), in bytes.</summary>
/// <remarks>Names stay bytes until asked for: the host source reads 7 of ~55 fields every cycle.</remarks>
internal sealed class MemInfo
{
    private readonly byte[] _names;
    private readonly (int Start, int Length, ulong Value)[] _fields;

    private MemInfo(byte[] names, (int, int, ulong)[] fields)
    {
        _names = names;
        _fields = fields;
    }

    public ulong? this[string name] => TryGet(name, out var v) ? v : null;

    public bool TryGet(string name, out ulong bytes)
    {
        // The last line of a name wins, as a dictionary filled in order would have it.
        for (var i = _fields.Length - 1; i >= 0; i--)
        {
            var (start, length, value) = _fields[i];
            if (ProcText.Equals(_names.AsSpan(start, length), name))
            {
                bytes = value;
                return true;
            }
        }

        bytes = 0;
        return false;
    }

    /// <summary>Parses <c>Name:   value kB</c> lines; values without a unit (HugePages_Total) are kept as counts.</summary>
    public static MemInfo Parse(ReadOnlySpan<byte> content, string path)
    {
        var names = content.ToArray();
        var fields = new List<(int, int, ulong)>(64);
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

            var cursor = value;
            var token = ProcText.NextToken(ref cursor);
            if (!ProcText.TryParseUInt64(token, out var number))
            {
                throw ProcText.NotUnsigned(token, path, System.Text.Encoding.ASCII.GetString(key));
            }

            var unit = ProcText.NextToken(ref cursor);
            fields.Add((Offset(content, key), key.Length, ProcText.Equals(unit, "kB") ? number * 1024 : number));
        }

        return new MemInfo(names, fields.ToArray());
    }

    // key is a slice of content: its offset in the copy is its distance from content's start.
    private static int Offset(ReadOnlySpan<byte> content, ReadOnlySpan<byte> key) =>
        (int)System.Runtime.CompilerServices.Unsafe.ByteOffset(
            ref System.Runtime.InteropServices.MemoryMarshal.GetReference(content), ref System.Runtime.InteropServices.MemoryMarshal.GetReference(key));
}
