using System.Globalization;

namespace VmProbe.Power;

/// <summary>
/// The sysfs files the power source reads, under the mount point <c>$VMPROBE_SYSFS</c> (default <c>/sys</c>; tests point it
/// at fixture trees). Files are small and untrusted: at most <see cref="MaxFileBytes"/> are read, and a number must be
/// plain decimal. A read that is refused (non-root <c>energy_uj</c> on kernels patched for CVE-2020-8694) is a
/// <see cref="UnauthorizedAccessException"/> the caller reports once.
/// </summary>
internal sealed class PowerSysfs
{
    public const string EnvironmentVariable = "VMPROBE_SYSFS";

    public const string DefaultRoot = "/sys";

    private const int MaxFileBytes = 4096;

    private readonly Func<string, string>? _read;

    /// <param name="root">The sysfs mount point; null for <c>$VMPROBE_SYSFS</c>, else <c>/sys</c>.</param>
    /// <param name="read">Stands in for reading a file (tests: a refused read); null reads the file.</param>
    public PowerSysfs(string? root = null, Func<string, string>? read = null)
    {
        Root = Resolve(root);
        _read = read;
    }

    public string Root { get; }

    public static string Resolve(string? root)
    {
        if (!string.IsNullOrEmpty(root))
        {
            return root;
        }

        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return string.IsNullOrEmpty(fromEnvironment) ? DefaultRoot : fromEnvironment;
    }

    public string PathOf(params string[] parts) => Path.Combine(Root, Path.Combine(parts));

    public IEnumerable<string> Directories(string path)
    {
        try
        {
            return Directory.Exists(path) ? Directory.GetDirectories(path).Order(StringComparer.Ordinal).ToArray() : Array.Empty<string>();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return Array.Empty<string>();
        }
    }

    /// <summary>The file's text (trimmed), or null when it does not exist (a zone that went away).</summary>
    /// <exception cref="UnauthorizedAccessException">The kernel refused the read.</exception>
    /// <exception cref="IOException">The file could not be read for another reason.</exception>
    public string? ReadText(string path)
    {
        if (_read is not null)
        {
            return File.Exists(path) ? _read(path).Trim() : null;
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
            var buffer = new byte[MaxFileBytes];
            var total = 0;
            int n;
            while (total < buffer.Length && (n = stream.Read(buffer, total, buffer.Length - total)) > 0)
            {
                total += n;
            }

            return System.Text.Encoding.ASCII.GetString(buffer, 0, total).Trim();
        }
        catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>A plain decimal number from the file, null when the file is absent.</summary>
    /// <exception cref="InvalidDataException">The file holds something else.</exception>
    public ulong? ReadNumber(string path)
    {
        var text = ReadText(path);
        if (text is null)
        {
            return null;
        }

        return text.Length is > 0 and <= 20 && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidDataException($"{path}: expected a decimal number, got '{Shorten(text)}'");
    }

    /// <summary>The first line of a file as a label value: printable ASCII, at most 64 characters; null when absent or unreadable.</summary>
    public string? ReadName(string path)
    {
        try
        {
            var text = ReadText(path);
            if (text is null)
            {
                return null;
            }

            var line = text.Split('\n')[0].Trim();
            return line.Length is > 0 and <= 64 && line.All(c => c is > ' ' and < (char)127) ? line : null;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    internal static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
