using System.Globalization;
using System.Text.RegularExpressions;
using VmProbe.Libvirt;
using VmProbe.Perf;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace VmProbe.Config;

/// <summary>
/// Reads a config file, YAML or the C++ vmprobe's key=value form (detected), validates every key and event name through
/// <see cref="PerfEventCatalog"/>, and reports all errors of the file at once in a <see cref="ConfigException"/>.
/// </summary>
public static partial class ConfigLoader
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

    private const string KeyPrefix = "prefix";
    private const string KeyDelay = "delay";
    private const string KeyEndpoint = "endpoint";
    private const string KeyUrl = "url";
    private const string KeyPerfHardware = "perfhardware";
    private const string KeyPerfSoftware = "perfsoftware";
    private const string KeyPerfHardwareCache = "perfhardwarecache";
    private const string KeyPerfTracepoint = "perftracepoint";
    private const string KeyNaming = "naming";
    private const string KeyAttribution = "attribution";
    private const string KeyDiscovery = "discovery";
    private const string KeyPerCpu = "percpu";
    private const string KeyAllowRemoteUrl = "allowremoteurl";
    private const string KeyKvmStats = "kvmstats";
    private const string KeyKvmStatsAllow = "kvmstatsallow";

    /// <summary>Every key, in the order the README documents them.</summary>
    public static IReadOnlyList<string> Keys { get; } = new[]
    {
        KeyPrefix, KeyDelay, KeyEndpoint, KeyUrl, KeyPerfHardware, KeyPerfSoftware, KeyPerfHardwareCache, KeyPerfTracepoint,
        KeyNaming, KeyAttribution, KeyDiscovery, KeyPerCpu, KeyAllowRemoteUrl, KeyKvmStats, KeyKvmStatsAllow,
    };

    // Event keys in the order their events appear in ProbeConfig.Events, with the kind each expects.
    private static readonly (string Key, PerfEventKind Kind, string What)[] EventKeys =
    {
        (KeyPerfHardware, PerfEventKind.Hardware, "hardware"),
        (KeyPerfSoftware, PerfEventKind.Software, "software"),
        (KeyPerfHardwareCache, PerfEventKind.HardwareCache, "hardware-cache"),
        (KeyPerfTracepoint, PerfEventKind.Tracepoint, "tracepoint"),
    };

    /// <summary>Reads and validates the config file at <paramref name="path"/>.</summary>
    /// <exception cref="ConfigException">The file cannot be read or has errors; <see cref="ConfigException.Errors"/> lists them all.</exception>
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

    private static ConfigException TooLarge(string path, long? length) =>
        new(new[] { new ConfigError(path, null, FileKey, $"the file is {(length is { } n ? n.ToString(CultureInfo.InvariantCulture) + " bytes" : "larger than that")}; config files larger than {MaxFileBytes / 1024} KiB are refused") },
            "config,too_large", ProbeErrorKind.InvalidData);

    /// <summary>Parses and validates config text; <paramref name="sourceName"/> names it in messages and becomes <see cref="ProbeConfig.SourcePath"/>.</summary>
    /// <exception cref="ConfigException">The text has errors; <see cref="ConfigException.Errors"/> lists them all.</exception>
    public static ConfigLoadResult Parse(string text, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(sourceName);
        var state = new ParseState(sourceName);
        if (text.Length > MaxFileBytes)
        {
            throw new ConfigException(new[] { new ConfigError(sourceName, null, FileKey, $"the text is {text.Length} characters; configs larger than {MaxFileBytes / 1024} KiB are refused") }, "config,too_large");
        }

        var format = LooksLikeKeyValue(text) ? ConfigFormat.KeyValue : ConfigFormat.Yaml;
        var entries = format == ConfigFormat.KeyValue ? ReadKeyValue(text, state) : ReadYaml(text, state);
        var config = Build(entries, state);
        state.Finish();
        if (state.Errors.Count > 0)
        {
            throw new ConfigException(state.Errors);
        }

        return new ConfigLoadResult(config, state.Warnings, format) { KeyLines = state.KeyLines, EventLines = state.EventLines, EventKeys = state.EventKeys };
    }

    /// <summary>
    /// The C++ vmprobe's files are key=value lines: detected when some line is key=value and none looks like YAML
    /// (a "key:" mapping, a "- " item or a document marker).
    /// </summary>
    private static bool LooksLikeKeyValue(string text)
    {
        var sawKeyValue = false;
        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            var line = rawLine.Trim();
            if (line.IsEmpty || line[0] == '#')
            {
                continue;
            }

            if (YamlKeyLine().IsMatch(line) || line.StartsWith("- ") || line.SequenceEqual("-") || line.StartsWith("---") || line[0] == '{')
            {
                return false;
            }

            sawKeyValue |= KeyValueLine().IsMatch(line);
        }

        return sawKeyValue;
    }

    private static List<RawEntry> ReadKeyValue(string text, ParseState state)
    {
        var entries = new List<RawEntry>();
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var eq = line.IndexOf('=');
            if (eq <= 0)
            {
                state.Error(lineNumber, FileKey, $"expected key=value, got '{line}'");
                continue;
            }

            var key = line[..eq].Trim();
            var value = line[(eq + 1)..].Trim();
            entries.Add(new RawEntry(key, lineNumber, value, null));
        }

        return entries;
    }

    private static List<RawEntry> ReadYaml(string text, ParseState state)
    {
        var entries = new List<RawEntry>();
        if (!CheckNesting(text, state))
        {
            return entries;
        }

        var stream = new YamlStream();
        var parser = new Parser(new StringReader(text));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException ex)
        {
            state.Error(ToLine(ex.Start), KeyAt(text, ToLine(ex.Start)), "YAML syntax error: " + YamlReason(ex));
            return entries;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this on some malformed input (an unclosed flow sequence); the last event read
            // is where the parser gave up.
            var line = parser.Current is { } current ? ToLine(current.End) : 1;
            state.Error(line, KeyAt(text, line), "YAML syntax error: unexpected content (an unclosed [ or { ?)");
            return entries;
        }

        if (stream.Documents.Count == 0)
        {
            return entries;
        }

        if (stream.Documents.Count > 1)
        {
            state.Error(ToLine(stream.Documents[1].RootNode.Start), FileKey, "the config must be a single YAML document");
        }

        var root = stream.Documents[0].RootNode;
        if (root is YamlScalarNode { Value: null or "" })
        {
            return entries;
        }

        if (root is not YamlMappingNode mapping)
        {
            state.Error(ToLine(root.Start), FileKey, "the config must be a YAML mapping of key: value pairs");
            return entries;
        }

        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key })
            {
                state.Error(ToLine(keyNode.Start), FileKey, "config keys must be plain names");
                continue;
            }

            var line = ToLine(keyNode.Start);
            switch (valueNode)
            {
                case YamlScalarNode scalar:
                    entries.Add(new RawEntry(key, line, IsYamlNull(scalar) ? string.Empty : scalar.Value ?? string.Empty, null, ToLine(scalar.Start)));
                    break;
                case YamlSequenceNode sequence:
                    var items = new List<(string, int)>();
                    if (sequence.Children.Count > MaxListItems)
                    {
                        state.Error(line, key, $"the list has {sequence.Children.Count} items; at most {MaxListItems} are allowed");
                        break;
                    }

                    foreach (var item in sequence.Children)
                    {
                        if (item is YamlScalarNode { Value: { } itemText })
                        {
                            items.Add((itemText, ToLine(item.Start)));
                        }
                        else
                        {
                            state.Error(ToLine(item.Start), key, $"{key}: list items must be plain values");
                        }
                    }

                    entries.Add(new RawEntry(key, line, null, items));
                    break;
                default:
                    state.Error(line, key, $"{key}: expected a value or a list, got a mapping");
                    break;
            }
        }

        return entries;
    }

    private static ProbeConfig Build(List<RawEntry> entries, ParseState state)
    {
        // Last occurrence wins (the C++ vmprobe read lines in order); a repeated key is worth a warning.
        var byKey = new Dictionary<string, RawEntry>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var key = NormalizeKey(entry.Key);
            if (!Keys.Contains(key))
            {
                var closest = Keys.Select(k => (Key: k, Distance: PerfEventCatalog.EditDistance(key, k))).Where(k => k.Distance <= 2).OrderBy(k => k.Distance).Select(k => k.Key).FirstOrDefault();
                state.Warn(entry.Line, entry.Key, closest is null
                    ? $"unknown key '{entry.Key}' ignored; known keys: {string.Join(", ", Keys)}"
                    : $"unknown key '{entry.Key}' ignored; did you mean {closest}?");
                continue;
            }

            if (byKey.TryGetValue(key, out var previous))
            {
                state.Warn(entry.Line, entry.Key, $"key '{entry.Key}' given again (first at line {previous.Line}); this one is used");
            }

            byKey[key] = entry;
            state.KeyLines[key] = entry.Line;
        }

        if (entries.Count == 0 && state.Errors.Count == 0)
        {
            state.Warn(null, FileKey, "the config has no settings: every key has its default (see the README's configuration reference)");
        }

        var defaults = new ProbeConfig();
        var prefix = Scalar(byKey, KeyPrefix, state, defaults.Prefix, (value, line) =>
            PrefixPattern().IsMatch(value) ? value : Fail<string>(state, line, KeyPrefix,
                $"must be a valid metric name prefix (letters, digits and '_', not starting with a digit), got '{value}'"));
        var delay = Scalar(byKey, KeyDelay, state, defaults.DelayMs, (value, line) =>
            int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms >= MinimumDelayMs
                ? ms
                : Fail<int>(state, line, KeyDelay, $"must be an integer number of milliseconds >= {MinimumDelayMs}, got '{value}'"));
        var endpoint = Scalar(byKey, KeyEndpoint, state, defaults.Endpoint, (value, line) =>
        {
            if (value.IndexOfAny(ControlCharacters) is var at and >= 0)
            {
                var control = value[at];
                return Fail<string>(state, line, KeyEndpoint, $"the path contains a control character (U+{(int)control:X4}); file names with newlines or other control characters are refused");
            }

            if (!value.EndsWith(".prom", StringComparison.Ordinal) || value.EndsWith("/.prom", StringComparison.Ordinal) || value == ".prom")
            {
                return Fail<string>(state, line, KeyEndpoint,
                    $"must be a file path ending in .prom (node_exporter's textfile collector reads only *.prom files), got '{value}'");
            }

            if (!Path.IsPathRooted(value))
            {
                state.Warn(line, KeyEndpoint, $"endpoint '{value}' is relative; it is written relative to the working directory");
            }

            return value;
        });
        var allowRemoteUrl = Scalar(byKey, KeyAllowRemoteUrl, state, defaults.AllowRemoteUrl, (value, line) => ParseBool(value, line, KeyAllowRemoteUrl, state));
        var url = Scalar(byKey, KeyUrl, state, defaults.Url, (value, line) =>
            LibvirtUrlPolicy.Check(value, allowRemoteUrl) is { } refused ? Fail<string>(state, line, KeyUrl, $"'{value}' refused: {refused}") : value);
        var naming = Scalar(byKey, KeyNaming, state, defaults.Naming, (value, line) => ParseEnum<MetricNaming>(value, line, KeyNaming, state, "labelled or legacy"));
        var attribution = Scalar(byKey, KeyAttribution, state, defaults.Attribution, (value, line) => ParseEnum<PerfAttribution>(value, line, KeyAttribution, state, "thread or cgroup"));
        var discovery = Scalar(byKey, KeyDiscovery, state, defaults.Discovery, (value, line) => ParseEnum<DomainDiscovery>(value, line, KeyDiscovery, state, "auto, libvirt or process"));
        var perCpu = Scalar(byKey, KeyPerCpu, state, defaults.PerCpu, (value, line) => ParseBool(value, line, KeyPerCpu, state));

        var kvmStats = Scalar(byKey, KeyKvmStats, state, defaults.KvmStats, (value, line) => ParseEnum<KvmStatsMode>(value, line, KeyKvmStats, state, "vm, vcpu or off"));
        var kvmStatsAllow = new List<string>();
        if (byKey.TryGetValue(KeyKvmStatsAllow, out var allowEntry))
        {
            var listed = ListItems(allowEntry).ToList();
            if (listed.Count > MaxListItems)
            {
                state.Error(allowEntry.ValueLine, KeyKvmStatsAllow, $"the list has {listed.Count} items; at most {MaxListItems} are allowed");
            }
            else
            {
                foreach (var (written, line) in listed)
                {
                    if (!Kvm.KvmStatsFilter.IsValidPattern(written))
                    {
                        state.Error(line, KeyKvmStatsAllow, $"'{written}' is not a KVM statistic name ([a-z0-9_], optionally ending in *)");
                    }
                    else if (!kvmStatsAllow.Contains(written))
                    {
                        kvmStatsAllow.Add(written);
                    }
                }
            }
        }

        var events = new List<PerfEventSpec>();
        var seen = new Dictionary<string, (string Written, int Line)>(StringComparer.Ordinal);
        var repeats = new Dictionary<string, int>(StringComparer.Ordinal); // canonical name -> times repeated
        (string Key, int Line)? firstRepeat = null;
        foreach (var (key, kind, what) in EventKeys)
        {
            if (!byKey.TryGetValue(key, out var entry))
            {
                continue;
            }

            var listed = ListItems(entry).ToList();
            if (listed.Count > MaxListItems)
            {
                state.Error(entry.ValueLine, key, $"the list has {listed.Count} items; at most {MaxListItems} are allowed");
                continue;
            }

            foreach (var (written, line) in listed)
            {
                PerfEventSpec spec;
                try
                {
                    spec = PerfEventCatalog.Parse(written, bareNumberIsTracepoint: kind == PerfEventKind.Tracepoint);
                }
                catch (VmProbeException ex)
                {
                    state.Error(line, key, ex.Message);
                    continue;
                }

                if (spec.Kind != kind && !(kind == PerfEventKind.Hardware && spec.Kind == PerfEventKind.Dynamic))
                {
                    var properKey = EventKeys.FirstOrDefault(k => k.Kind == spec.Kind).Key ?? KeyPerfHardware;
                    state.Warn(line, key, $"{key}: '{written}' is a {KindName(spec.Kind)} event ({spec.CanonicalName}), not a {what} event; it is counted, but belongs under {properKey}");
                }

                if (seen.ContainsKey(spec.CanonicalName))
                {
                    // One warning for all repeats (a list of thousands of copies must not give thousands of lines).
                    repeats[spec.CanonicalName] = repeats.GetValueOrDefault(spec.CanonicalName) + 1;
                    firstRepeat ??= (key, line);
                    continue;
                }

                seen[spec.CanonicalName] = (written, line);
                events.Add(spec);
                state.EventLines.Add(line);
                state.EventKeys.Add(key);
            }
        }

        if (firstRepeat is { } at)
        {
            var total = repeats.Values.Sum();
            var names = string.Join(", ", repeats.Take(5).Select(r => $"'{seen[r.Key].Written}' (line {seen[r.Key].Line}) {r.Value} more time{(r.Value == 1 ? string.Empty : "s")}"))
                + (repeats.Count > 5 ? $" and {repeats.Count - 5} more event(s)" : string.Empty);
            state.Warn(at.Line, at.Key, $"{total} repeated event{(total == 1 ? " is" : "s are")} ignored, each event is counted once: {names}");
        }

        return new ProbeConfig
        {
            SourcePath = state.File,
            Prefix = prefix,
            DelayMs = delay,
            Endpoint = endpoint,
            Url = url,
            Events = events,
            Naming = naming,
            Attribution = attribution,
            Discovery = discovery,
            PerCpu = perCpu,
            AllowRemoteUrl = allowRemoteUrl,
            KvmStats = kvmStats,
            KvmStatsAllow = kvmStatsAllow,
        };
    }

    private static IEnumerable<(string Text, int Line)> ListItems(RawEntry entry)
    {
        if (entry.Items is { } items)
        {
            // A YAML list item may itself be "a, b" when copied from the key=value form.
            return items.SelectMany(i => SplitList(i.Text).Select(t => (t, i.Line)));
        }

        return SplitList(entry.Value ?? string.Empty).Select(t => (t, entry.ValueLine));
    }

    private static IEnumerable<string> SplitList(string text) =>
        text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static T Scalar<T>(Dictionary<string, RawEntry> byKey, string key, ParseState state, T defaultValue, Func<string, int, T> parse)
    {
        if (!byKey.TryGetValue(key, out var entry))
        {
            return defaultValue;
        }

        if (entry.Items is not null)
        {
            state.Error(entry.Line, key, "expected a single value, got a list");
            return defaultValue;
        }

        var value = entry.Value!.Trim();
        return value.Length == 0 ? defaultValue : parse(value, entry.ValueLine);
    }

    private static T ParseEnum<T>(string value, int line, string key, ParseState state, string expected)
        where T : struct, Enum =>
        Enum.TryParse<T>(value, ignoreCase: true, out var parsed) && !char.IsAsciiDigit(value[0]) && Enum.IsDefined(parsed)
            ? parsed
            : Fail<T>(state, line, key, $"must be {expected}, got '{value}'");

    private static bool ParseBool(string value, int line, string key, ParseState state) => value.ToLowerInvariant() switch
    {
        "true" or "yes" or "on" or "1" => true,
        "false" or "no" or "off" or "0" => false,
        _ => Fail<bool>(state, line, key, $"must be true or false, got '{value}'"),
    };

    /// <summary>
    /// Walks the parser's events (no nodes are built) and refuses nesting deeper than <see cref="MaxNestingDepth"/>:
    /// YamlDotNet builds nodes recursively, and 30,000 nested [ overflow the stack, which kills the process.
    /// </summary>
    private static bool CheckNesting(string text, ParseState state)
    {
        var parser = new Parser(new StringReader(text));
        var depth = 0;
        try
        {
            while (parser.MoveNext())
            {
                switch (parser.Current)
                {
                    case YamlDotNet.Core.Events.MappingStart or YamlDotNet.Core.Events.SequenceStart:
                        if (++depth > MaxNestingDepth)
                        {
                            var line = ToLine(parser.Current.Start);
                            state.Error(line, KeyAt(text, line), $"YAML nested more than {MaxNestingDepth} levels deep; a config is a mapping of values and lists");
                            return false;
                        }

                        break;
                    case YamlDotNet.Core.Events.MappingEnd or YamlDotNet.Core.Events.SequenceEnd:
                        depth--;
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is YamlException or InvalidOperationException)
        {
            // The syntax error is reported by the real load, with its line.
        }

        return true;
    }

    /// <summary>The top-level key whose block holds <paramref name="line"/> (the last unindented "key:" at or above it), else <see cref="FileKey"/>.</summary>
    private static string KeyAt(string text, int line)
    {
        string key = FileKey;
        var number = 0;
        foreach (var raw in text.AsSpan().EnumerateLines())
        {
            if (++number > line)
            {
                break;
            }

            if (raw.Length > 0 && !char.IsWhiteSpace(raw[0]) && YamlKeyLine().IsMatch(raw))
            {
                var colon = raw.IndexOf(':');
                key = raw[..colon].Trim().Trim('"').Trim('\'').ToString();
            }
        }

        return key;
    }

    private static T Fail<T>(ParseState state, int line, string key, string message)
    {
        state.Error(line, key, message);
        return default!;
    }

    private static string KindName(PerfEventKind kind) => kind switch
    {
        PerfEventKind.Hardware => "hardware",
        PerfEventKind.Software => "software",
        PerfEventKind.HardwareCache => "hardware-cache",
        PerfEventKind.Tracepoint => "tracepoint",
        _ => "PMU",
    };

    private static string NormalizeKey(string key) => key.Replace("_", string.Empty, StringComparison.Ordinal).Replace("-", string.Empty, StringComparison.Ordinal).ToLowerInvariant();

    private static bool IsYamlNull(YamlScalarNode scalar) =>
        scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";

    // YamlDotNet marks are 1-based already.
    private static int ToLine(Mark mark) => (int)mark.Line;

    private static string YamlReason(YamlException ex)
    {
        // YamlDotNet prefixes "(Line: 3, Col: 1, Idx: 20) - (Line: 3, Col: 2, Idx: 21): "; the line is reported separately.
        var message = ex.Message;
        var marker = message.IndexOf("): ", StringComparison.Ordinal);
        message = message.StartsWith("(Line", StringComparison.Ordinal) && marker > 0 ? message[(marker + 3)..] : message;
        return ex.InnerException is { } inner && !string.IsNullOrEmpty(inner.Message) && !message.Contains(inner.Message, StringComparison.Ordinal)
            ? $"{message} ({inner.Message})"
            : message;
    }

    private static readonly char[] ControlCharacters = Enumerable.Range(0, 0x20).Append(0x7F).Select(c => (char)c).ToArray();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex PrefixPattern();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_-]*\s*=")]
    private static partial Regex KeyValueLine();

    [GeneratedRegex(@"^[""']?[A-Za-z_][A-Za-z0-9_-]*[""']?\s*:(\s|$)")]
    private static partial Regex YamlKeyLine();

    private sealed record RawEntry(string Key, int Line, string? Value, List<(string Text, int Line)>? Items, int? ValueLineOrNull = null)
    {
        public int ValueLine => ValueLineOrNull ?? Line;
    }

    private sealed class ParseState(string file)
    {
        public string File { get; } = file;

        public List<ConfigError> Errors { get; } = new();

        public List<ConfigWarning> Warnings { get; } = new();

        private int droppedErrors;
        private int droppedWarnings;

        public Dictionary<string, int> KeyLines { get; } = new(StringComparer.Ordinal);

        public List<int> EventLines { get; } = new();

        public List<string> EventKeys { get; } = new();

        public void Error(int? line, string key, string message)
        {
            if (Errors.Count < MaxDiagnostics)
            {
                Errors.Add(new ConfigError(File, line, key, StripKey(key, message)));
            }
            else
            {
                droppedErrors++;
            }
        }

        public void Warn(int? line, string key, string message)
        {
            if (Warnings.Count < MaxDiagnostics)
            {
                Warnings.Add(new ConfigWarning(File, line, key, StripKey(key, message)));
            }
            else
            {
                droppedWarnings++;
            }
        }

        /// <summary>Adds one line for the errors and warnings beyond <see cref="MaxDiagnostics"/>.</summary>
        public void Finish()
        {
            if (droppedErrors > 0)
            {
                Errors.Add(new ConfigError(File, null, FileKey, $"{droppedErrors} more error(s) not shown"));
            }

            if (droppedWarnings > 0)
            {
                Warnings.Add(new ConfigWarning(File, null, FileKey, $"{droppedWarnings} more warning(s) not shown"));
            }
        }

        // The key is printed before the message (file:line: key: message): do not say it twice.
        private static string StripKey(string key, string message) =>
            message.StartsWith(key + ": ", StringComparison.Ordinal) ? message[(key.Length + 2)..] : message;
    }
}
