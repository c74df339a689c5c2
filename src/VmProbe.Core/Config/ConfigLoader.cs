using System.Globalization;
using VmProbe.Native;

namespace VmProbe.Config;

/// <summary>
/// Reads a config file, YAML or the C++ vmprobe's key=value form (detected), validates every key and event name through
/// <see cref="PerfEventCatalog"/>, and reports all errors of the file at once in a <see cref="ConfigException"/>.
/// The readers (<see cref="YamlConfigReader"/>, <see cref="KeyValueConfigReader"/>) turn the text into
/// <see cref="RawConfigEntry"/> lines, <see cref="ConfigValidator"/> checks every key and builds the <see cref="ProbeConfig"/>,
/// and <see cref="ConfigParseState"/> collects the diagnostics of the whole file.
/// </summary>
public static class ConfigLoader
{
    public const int MinimumDelayMs = 100;

    /// <summary>Where the config is read from when no path is given (Get-VmProbeConfig, Start-VmProbe).</summary>
    public const string DefaultPath = "/etc/vmprobe/config.yaml";

    /// <summary>Larger files are refused before parsing (a config is a few hundred bytes).</summary>
    public const int MaxFileBytes = 256 * 1024;

    /// <summary>Deepest YAML nesting accepted (a config needs 2: the mapping and a list); checked on parser events before building nodes.</summary>
    public const int MaxNestingDepth = 8;

    /// <summary>Most items one list key may have (before de-duplication).</summary>
    public const int MaxListItems = 1024;

    /// <summary>Errors and warnings reported one by one; the rest are summed up in one more line.</summary>
    public const int MaxDiagnostics = 50;

    /// <summary>The key named by problems of the file as a whole (unreadable, too large, not YAML, not a mapping).</summary>
    public const string FileKey = "config";

    /// <summary>Every key, in the order the README documents them.</summary>
    public static IReadOnlyList<string> Keys => ConfigKeys.All;

    /// <summary>Reads and validates the config file at <paramref name="path"/>.</summary>
    /// <exception cref="ConfigException">The file cannot be read or has errors; <see cref="ConfigException.Errors"/> lists them all.</exception>
    /// <exception cref="VmProbeException">No file descriptor was left to open it (EMFILE, ENFILE): a failure of the process, not of the file.</exception>
    public static ConfigLoadResult Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            if (Directory.Exists(path))
            {
                throw new ConfigException(new[] { new ConfigError(path, null, FileKey, $"cannot read config file '{path}': Is a directory") }, "config,EISDIR", ProbeErrorKind.InvalidArgument);
            }

            text = ReadBounded(path);
        }
        catch (ConfigException)
        {
            throw;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ConfigException(new[] { new ConfigError(path, null, FileKey, $"cannot read config file '{path}': No such file or directory") }, "config,ENOENT", ProbeErrorKind.NotFound, ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new ConfigException(new[] { new ConfigError(path, null, FileKey, $"cannot read config file '{path}': Permission denied") }, "config,EACCES", ProbeErrorKind.PermissionDenied, ex);
        }
        catch (IOException ex) when (ex.HResult is Errno.EMFILE or Errno.ENFILE)
        {
            // The process (or the system) is out of fds: nothing is wrong with the file, so not a config error (exit 2).
            throw OutOfFds(path, ex);
        }
        catch (IOException ex)
        {
            throw new ConfigException(new[] { new ConfigError(path, null, FileKey, $"cannot read config file '{path}': {ex.Message}") }, "config,EIO", ProbeErrorKind.ResourceUnavailable, ex);
        }

        return Parse(text, path);
    }

    // Reads at most MaxFileBytes + 1 bytes, so a huge file, /dev/zero or a FIFO cannot take the memory or the time.
    private static string ReadBounded(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
        if (stream.CanSeek && stream.Length > MaxFileBytes)
        {
            throw TooLarge(path, stream.Length);
        }

        var buffer = new byte[MaxFileBytes + 1];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = stream.Read(buffer, total, buffer.Length - total)) > 0)
        {
            total += read;
        }

        if (total > MaxFileBytes)
        {
            throw TooLarge(path, null);
        }

        return new System.Text.UTF8Encoding(false).GetString(buffer, 0, total).TrimStart('\uFEFF');
    }

    private static VmProbeException OutOfFds(string path, IOException error)
    {
        var name = Errno.Name(error.HResult);
        var limit = FdLimits.TryGetNoFileLimit(out var soft, out _) == 0
            ? string.Create(CultureInfo.InvariantCulture, $"RLIMIT_NOFILE is {soft}")
            : "RLIMIT_NOFILE is unknown";
        var scope = error.HResult == Errno.EMFILE ? "this process has" : "the system has";
        return new VmProbeException(
            $"cannot read config file '{path}': too many open files ({name}): {scope} no file descriptor left ({limit}); raise the limit (ulimit -n, LimitNOFILE=)",
            "config_read," + name, ProbeErrorKind.ResourceUnavailable, error);
    }

    private static ConfigException TooLarge(string path, long? length) =>
        new(new[] { new ConfigError(path, null, FileKey, $"the file is {(length is { } n ? n.ToString(CultureInfo.InvariantCulture) + " bytes" : "larger than that")}; config files larger than {MaxFileBytes / 1024} KiB are refused") },
            "config,too_large", ProbeErrorKind.InvalidData);

    /// <summary>Parses and validates config text; <paramref name="sourceName"/> names it in messages and becomes <see cref="ProbeConfig.SourcePath"/>.</summary>
    /// <exception cref="ConfigException">The text has errors; <see cref="ConfigException.Errors"/> lists them all.</exception>
    public static ConfigLoadResult Parse(string text, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(sourceName);
        var state = new ConfigParseState(sourceName);
        if (text.Length > MaxFileBytes)
        {
            throw new ConfigException(new[] { new ConfigError(sourceName, null, FileKey, $"the text is {text.Length} characters; configs larger than {MaxFileBytes / 1024} KiB are refused") }, "config,too_large");
        }

        var format = KeyValueConfigReader.LooksLikeKeyValue(text) ? ConfigFormat.KeyValue : ConfigFormat.Yaml;
        var entries = format == ConfigFormat.KeyValue ? KeyValueConfigReader.Read(text, state) : YamlConfigReader.Read(text, state);
        var config = ConfigValidator.Build(entries, state);
        state.Finish();
        if (state.Errors.Count > 0)
        {
            throw new ConfigException(state.Errors.OrderBy(e => e.Line ?? 0).ToList()) { Warnings = state.Warnings.ToList() };
        }

        return new ConfigLoadResult(config, state.Warnings, format) { KeyLines = state.KeyLines, EventLines = state.EventLines, EventKeys = state.EventKeys };
    }
}
