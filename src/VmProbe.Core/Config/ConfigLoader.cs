using System.Globalization;
using System.Text.RegularExpressions;
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

    /// <summary>Every key, in the order the README documents them.</summary>
    public static IReadOnlyList<string> Keys { get; } = new[]
    {
        KeyPrefix, KeyDelay, KeyEndpoint, KeyUrl, KeyPerfHardware, KeyPerfSoftware, KeyPerfHardwareCache, KeyPerfTracepoint,
        KeyNaming, KeyAttribution, KeyDiscovery, KeyPerCpu,
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
                throw new ConfigException(new[] { new ConfigError(path, null, null, $"cannot read config file '{path}': Is a directory") }, "config,EISDIR", ProbeErrorKind.InvalidArgument);
            }

            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ConfigException(new[] { new ConfigError(path, null, null, $"cannot read config file '{path}': No such file or directory") }, "config,ENOENT", ProbeErrorKind.NotFound, ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new ConfigException(new[] { new ConfigError(path, null, null, $"cannot read config file '{path}': Permission denied") }, "config,EACCES", ProbeErrorKind.PermissionDenied, ex);
        }
        catch (IOException ex)
        {
            throw new ConfigException(new[] { new ConfigError(path, null, null, $"cannot read config file '{path}': {ex.Message}") }, "config,EIO", ProbeErrorKind.ResourceUnavailable, ex);
        }

        return Parse(text, path);
    }

    /// <summary>Parses and validates config text; <paramref name="sourceName"/> names it in messages and becomes <see cref="ProbeConfig.SourcePath"/>.</summary>
    /// <exception cref="ConfigException">The text has errors; <see cref="ConfigException.Errors"/> lists them all.</exception>
    public static ConfigLoadResult Parse(string text, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(sourceName);
        var state = new ParseState(sourceName);
        var format = LooksLikeKeyValue(text) ? ConfigFormat.KeyValue : ConfigFormat.Yaml;
        var entries = format == ConfigFormat.KeyValue ? ReadKeyValue(text, state) : ReadYaml(text, state);
        var config = Build(entries, state);
        if (state.Errors.Count > 0)
        {
            throw new ConfigException(state.Errors);
        }

        return new ConfigLoadResult(config, state.Warnings, format);
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
                state.Error(lineNumber, null, $"expected key=value, got '{line}'");
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
        var stream = new YamlStream();
        var parser = new Parser(new StringReader(text));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException ex)
        {
            state.Error(ToLine(ex.Start), null, "YAML syntax error: " + YamlReason(ex));
            return entries;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this on some malformed input (an unclosed flow sequence); the last event read
            // is where the parser gave up.
            var line = parser.Current is { } current ? ToLine(current.End) : 1;
            state.Error(line, null, "YAML syntax error: unexpected content (an unclosed [ or { ?)");
            return entries;
        }

        if (stream.Documents.Count == 0)
        {
            return entries;
        }

        if (stream.Documents.Count > 1)
        {
            state.Error(ToLine(stream.Documents[1].RootNode.Start), null, "the config must be a single YAML document");
        }

        var root = stream.Documents[0].RootNode;
        if (root is YamlScalarNode { Value: null or "" })
        {
            return entries;
        }

        if (root is not YamlMappingNode mapping)
        {
            state.Error(ToLine(root.Start), null, "the config must be a YAML mapping of key: value pairs");
            return entries;
        }

        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key })
            {
                state.Error(ToLine(keyNode.Start), null, "config keys must be plain names");
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
        }

        var defaults = new ProbeConfig();
        var prefix = Scalar(byKey, KeyPrefix, state, defaults.Prefix, (value, line) =>
            PrefixPattern().IsMatch(value) ? value : Fail<string>(state, line, KeyPrefix,
                $"prefix must be a valid metric name prefix (letters, digits and '_', not starting with a digit), got '{value}'"));
        var delay = Scalar(byKey, KeyDelay, state, defaults.DelayMs, (value, line) =>
            int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms >= MinimumDelayMs
                ? ms
                : Fail<int>(state, line, KeyDelay, $"delay must be an integer number of milliseconds >= {MinimumDelayMs}, got '{value}'"));
        var endpoint = Scalar(byKey, KeyEndpoint, state, defaults.Endpoint, (value, line) =>
        {
            if (!value.EndsWith(".prom", StringComparison.Ordinal) || value.EndsWith("/.prom", StringComparison.Ordinal) || value == ".prom")
            {
                return Fail<string>(state, line, KeyEndpoint,
                    $"endpoint must be a file path ending in .prom (node_exporter's textfile collector reads only *.prom files), got '{value}'");
            }

            if (!Path.IsPathRooted(value))
            {
                state.Warn(line, KeyEndpoint, $"endpoint '{value}' is relative; it is written relative to the working directory");
            }

            return value;
        });
        var url = Scalar(byKey, KeyUrl, state, defaults.Url, (value, _) => value);
        var naming = Scalar(byKey, KeyNaming, state, defaults.Naming, (value, line) => ParseEnum<MetricNaming>(value, line, KeyNaming, state, "labelled or legacy"));
        var attribution = Scalar(byKey, KeyAttribution, state, defaults.Attribution, (value, line) => ParseEnum<PerfAttribution>(value, line, KeyAttribution, state, "thread or cgroup"));
        var discovery = Scalar(byKey, KeyDiscovery, state, defaults.Discovery, (value, line) => ParseEnum<DomainDiscovery>(value, line, KeyDiscovery, state, "auto, libvirt or process"));
        var perCpu = Scalar(byKey, KeyPerCpu, state, defaults.PerCpu, (value, line) => value.ToLowerInvariant() switch
        {
            "true" or "yes" or "on" or "1" => true,
            "false" or "no" or "off" or "0" => false,
            _ => Fail<bool>(state, line, KeyPerCpu, $"percpu must be true or false, got '{value}'"),
        });

        var events = new List<PerfEventSpec>();
        var seen = new Dictionary<string, (string Written, int Line)>(StringComparer.Ordinal);
        foreach (var (key, kind, what) in EventKeys)
        {
            if (!byKey.TryGetValue(key, out var entry))
            {
                continue;
            }

            foreach (var (written, line) in ListItems(entry, state))
            {
                PerfEventSpec spec;
                try
                {
                    spec = PerfEventCatalog.Parse(written, bareNumberIsTracepoint: kind == PerfEventKind.Tracepoint);
                }
                catch (VmProbeException ex)
                {
                    state.Error(line, key, $"{key}: {ex.Message}");
                    continue;
                }

                if (spec.Kind != kind && !(kind == PerfEventKind.Hardware && spec.Kind == PerfEventKind.Dynamic))
                {
                    var properKey = EventKeys.FirstOrDefault(k => k.Kind == spec.Kind).Key ?? KeyPerfHardware;
                    state.Warn(line, key, $"{key}: '{written}' is a {KindName(spec.Kind)} event ({spec.CanonicalName}), not a {what} event; it is counted, but belongs under {properKey}");
                }

                if (seen.TryGetValue(spec.CanonicalName, out var first))
                {
                    state.Warn(line, key, $"{key}: '{written}' is the same event as '{first.Written}' (line {first.Line}); it is counted once");
                    continue;
                }

                seen[spec.CanonicalName] = (written, line);
                events.Add(spec);
            }
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
        };
    }

    private static IEnumerable<(string Text, int Line)> ListItems(RawEntry entry, ParseState state)
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
            state.Error(entry.Line, key, $"{key}: expected a single value, got a list");
            return defaultValue;
        }

        var value = entry.Value!.Trim();
        return value.Length == 0 ? defaultValue : parse(value, entry.ValueLine);
    }

    private static T ParseEnum<T>(string value, int line, string key, ParseState state, string expected)
        where T : struct, Enum =>
        Enum.TryParse<T>(value, ignoreCase: true, out var parsed) && !char.IsAsciiDigit(value[0]) && Enum.IsDefined(parsed)
            ? parsed
            : Fail<T>(state, line, key, $"{key} must be {expected}, got '{value}'");

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

        public void Error(int line, string? key, string message) => Errors.Add(new ConfigError(File, line, key, message));

        public void Warn(int line, string? key, string message) => Warnings.Add(new ConfigWarning(File, line, key, message));
    }
}
