using System.Buffers.Text;

namespace VmProbe.Procfs;

/// <summary>Allocation-free tokenizing of the ASCII text procfs and cgroupfs produce.</summary>
internal static class ProcText
{
    public static bool NextLine(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> line)
    {
        if (rest.IsEmpty)
        {
            line = default;
            return false;
        }

        var nl = rest.IndexOf((byte)'\n');
        if (nl < 0)
        {
            line = rest;
            rest = default;
        }
        else
        {
            line = rest[..nl];
            rest = rest[(nl + 1)..];
        }

        return true;
    }

    /// <summary>Next whitespace-separated token (spaces or tabs); empty when none is left.</summary>
    public static ReadOnlySpan<byte> NextToken(ref ReadOnlySpan<byte> rest)
    {
        var start = 0;
        while (start < rest.Length && IsBlank(rest[start]))
        {
            start++;
        }

        var end = start;
        while (end < rest.Length && !IsBlank(rest[end]))
        {
            end++;
        }

        var token = rest[start..end];
        rest = rest[end..];
        return token;
    }

    public static bool TryParseUInt64(ReadOnlySpan<byte> token, out ulong value) =>
        Utf8Parser.TryParse(token, out value, out var consumed) && consumed == token.Length && token.Length > 0;

    public static bool TryParseInt64(ReadOnlySpan<byte> token, out long value) =>
        Utf8Parser.TryParse(token, out value, out var consumed) && consumed == token.Length && token.Length > 0;

    public static bool TryParseDouble(ReadOnlySpan<byte> token, out double value) =>
        Utf8Parser.TryParse(token, out value, out var consumed) && consumed == token.Length && token.Length > 0;

    public static ulong ParseUInt64(ReadOnlySpan<byte> token, string path, string field) =>
        TryParseUInt64(token, out var value) ? value : throw NotUnsigned(token, path, field);

    /// <summary>The error of a field that is not an unsigned integer (for a caller that names the field only then).</summary>
    public static ProcfsException NotUnsigned(ReadOnlySpan<byte> token, string path, string field) =>
        ProcfsException.Parse(path, $"field '{field}' is '{System.Text.Encoding.ASCII.GetString(token)}', expected an unsigned integer");

    /// <summary>Splits <c>key&lt;sep&gt;value</c>; the value is trimmed of blanks.</summary>
    public static bool SplitKey(ReadOnlySpan<byte> line, byte separator, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        var i = line.IndexOf(separator);
        if (i <= 0)
        {
            key = value = default;
            return false;
        }

        key = line[..i];
        value = Trim(line[(i + 1)..]);
        return true;
    }

    public static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> s)
    {
        var start = 0;
        while (start < s.Length && IsBlank(s[start]))
        {
            start++;
        }

        var end = s.Length;
        while (end > start && (IsBlank(s[end - 1]) || s[end - 1] == (byte)'\n'))
        {
            end--;
        }

        return s[start..end];
    }

    public static bool Equals(ReadOnlySpan<byte> utf8, string ascii)
    {
        if (utf8.Length != ascii.Length)
        {
            return false;
        }

        for (var i = 0; i < utf8.Length; i++)
        {
            if (utf8[i] != ascii[i])
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsBlank(byte b) => b is (byte)' ' or (byte)'\t';
}
