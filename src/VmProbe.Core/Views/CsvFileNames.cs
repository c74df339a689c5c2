using System.Security.Cryptography;
using System.Text;

namespace VmProbe.Views;

/// <summary>
/// File names for any domain name: a name can hold '/', "..", control characters, spaces or be hundreds of bytes long
/// (the /proc scan takes QEMU's -name as given). Letters, digits, '_', '+', '-' and inner dots stay; every other UTF-8
/// byte (a leading dot, '%' itself) becomes %XX, so two names never share a file and no name leaves the directory or
/// hides. Names longer than <see cref="MaxStemLength"/> keep a prefix and a hash of the whole name.
/// </summary>
public static class CsvFileNames
{
    /// <summary>Escaped stems longer than this are cut (NAME_MAX is 255 bytes; ".csv.NN" must still fit).</summary>
    public const int MaxStemLength = 200;

    /// <summary>The escaped stem of <paramref name="domain"/>'s file (without ".csv").</summary>
    public static string Stem(string domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        var bytes = Encoding.UTF8.GetBytes(domain);
        if (bytes.Length == 0)
        {
            return "%";
        }

        var text = new StringBuilder(bytes.Length);
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            var keep = b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
                or (byte)'_' or (byte)'+' or (byte)'-' || (b == (byte)'.' && i > 0);
            if (keep)
            {
                text.Append((char)b);
            }
            else
            {
                text.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        if (text.Length <= MaxStemLength)
        {
            return text.ToString();
        }

        // Cut before an escape that would be split, then add a hash of the whole name so long names stay distinct.
        var cut = MaxStemLength - 17;
        for (var back = 1; back <= 2; back++)
        {
            if (text[cut - back] == '%')
            {
                cut -= back;
                break;
            }
        }

        var hash = Convert.ToHexString(SHA256.HashData(bytes), 0, 8).ToLowerInvariant();
        return text.ToString(0, cut) + "~" + hash;
    }

    /// <summary>The file a domain's rows are appended to.</summary>
    public static string FileName(string domain) => Stem(domain) + ".csv";
}
