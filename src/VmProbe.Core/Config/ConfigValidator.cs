using System.Globalization;
using System.Text.RegularExpressions;
using VmProbe.Libvirt;
using VmProbe.Perf;
using static VmProbe.Config.ConfigKeys;
using static VmProbe.Config.ConfigLoader;

namespace VmProbe.Config;

/// <summary>
/// Checks every key's value (last occurrence of a key wins), every event name through <see cref="PerfEventCatalog"/>,
/// and builds the <see cref="ProbeConfig"/>; problems go to the <see cref="ConfigParseState"/>, all of them.
/// </summary>
internal static partial class ConfigValidator
{
    public static ProbeConfig Build(List<RawConfigEntry> entries, ConfigParseState state)
    {
        // Last occurrence wins (the C++ vmprobe read lines in order); a repeated key is worth a warning.
        var byKey = new Dictionary<string, RawConfigEntry>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var key = ConfigKeys.Normalize(entry.Key);
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
        var csvDir = Scalar<string?>(byKey, KeyCsvDir, state, defaults.CsvDir, (value, line) =>
        {
            if (value.IndexOfAny(ControlCharacters) is var at and >= 0)
            {
                return Fail<string?>(state, line, KeyCsvDir, $"the directory contains a control character (U+{(int)value[at]:X4}); paths with newlines or other control characters are refused");
            }

            if (value.Trim().Length == 0)
            {
                return Fail<string?>(state, line, KeyCsvDir, "must be a directory path (one CSV per VM is written there), got an empty value");
            }

            if (!Path.IsPathRooted(value))
            {
                state.Warn(line, KeyCsvDir, $"csvdir '{value}' is relative; it is written relative to the working directory");
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
            var listed = AllowItems(allowEntry).ToList();
            if (listed.Count > MaxListItems)
            {
                state.Error(allowEntry.ValueLine, KeyKvmStatsAllow, $"the list has {listed.Count} items; at most {MaxListItems} are allowed");
            }
            else
            {
                foreach (var (written, line) in listed)
                {
                    if (Kvm.KvmStatsFilter.Check(written) is { } problem)
                    {
                        state.Error(line, KeyKvmStatsAllow, problem);
                    }
                    else if (!kvmStatsAllow.Contains(written))
                    {
                        kvmStatsAllow.Add(written);
                    }
                }
            }
        }

        var kvmExits = Scalar(byKey, KeyKvmExits, state, defaults.KvmExits, (value, line) => ParseEnum<Kvm.Exits.KvmExitsMode>(value, line, KeyKvmExits, state, "off, counts or latency"));
        var kvmExitTopN = Scalar(byKey, KeyKvmExitTopN, state, defaults.KvmExitTopN, (value, line) =>
            int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= MaxExitTopN
                ? n
                : Fail<int>(state, line, KeyKvmExitTopN, $"must be an integer from 0 to {MaxExitTopN} (reasons with a histogram each), got '{value}'"));
        var kvmExitPerVcpu = Scalar(byKey, KeyKvmExitPerVcpu, state, defaults.KvmExitPerVcpu, (value, line) => ParseBool(value, line, KeyKvmExitPerVcpu, state));
        var kvmExitReasons = ExitReasons(byKey, state);
        var powermeter = Scalar(byKey, KeyPowermeter, state, defaults.Powermeter, (value, line) =>
            value.Length is 0 or > MaxPowermeterLength || value.Any(char.IsControl)
                ? Fail<string?>(state, line, KeyPowermeter, $"must be one line of shell command (at most {MaxPowermeterLength} characters) that prints watts, got '{(value.Length > 40 ? value[..40] + "..." : value)}'")
                : value);
        var guestApi = GuestApiAddresses(byKey, state);

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
            KvmExits = kvmExits,
            KvmExitReasons = kvmExitReasons,
            KvmExitTopN = kvmExitTopN,
            KvmExitPerVcpu = kvmExitPerVcpu,
            CsvDir = csvDir,
            Powermeter = powermeter,
            GuestApi = guestApi,
        };
    }

    private const int MaxPowermeterLength = 4096;

    private const int MaxExitTopN = 64;

    /// <summary><c>kvmexitreasons</c>: each a VMX or SVM reason as the kernel prints it, or a number (the host's ISA is not known here).</summary>
    private static List<string> ExitReasons(Dictionary<string, RawConfigEntry> byKey, ConfigParseState state)
    {
        var reasons = new List<string>();
        if (!byKey.TryGetValue(KeyKvmExitReasons, out var entry))
        {
            return reasons;
        }

        var listed = ListItems(entry).ToList();
        if (listed.Count > MaxListItems)
        {
            state.Error(entry.ValueLine, KeyKvmExitReasons, $"the list has {listed.Count} items; at most {MaxListItems} are allowed");
            return reasons;
        }

        foreach (var (written, line) in listed)
        {
            if (!Kvm.Exits.KvmExitReasons.TryParse(Kvm.Exits.KvmExitIsa.Vmx, written, out _) && !Kvm.Exits.KvmExitReasons.TryParse(Kvm.Exits.KvmExitIsa.Svm, written, out _))
            {
                state.Error(line, KeyKvmExitReasons, $"'{written}' is not a VM exit reason: a VMX or SVM name as the kernel prints it (EPT_VIOLATION, HLT, npf, hlt) or a number (48, 0x30)");
            }
            else if (!reasons.Contains(written))
            {
                reasons.Add(written);
            }
        }

        return reasons;
    }

    /// <summary><c>guestapi</c>: up to 4 listen addresses (ADDRESS:PORT, [V6]:PORT, vsock:PORT); none is off.</summary>
    private static List<GuestApi.GuestApiAddress> GuestApiAddresses(Dictionary<string, RawConfigEntry> byKey, ConfigParseState state)
    {
        var addresses = new List<GuestApi.GuestApiAddress>();
        if (!byKey.TryGetValue(KeyGuestApi, out var entry))
        {
            return addresses;
        }

        var listed = ListItems(entry).ToList();
        if (listed.Count > 4)
        {
            state.Error(entry.ValueLine, KeyGuestApi, $"the list has {listed.Count} addresses; at most 4 are allowed");
            return addresses;
        }

        foreach (var (written, line) in listed)
        {
            if (GuestApi.GuestApiAddress.TryParse(written, out var error) is not { } address)
            {
                state.Error(line, KeyGuestApi, error!);
            }
            else if (!addresses.Contains(address))
            {
                addresses.Add(address);
            }
        }

        return addresses;
    }

    private static IEnumerable<(string Text, int Line)> ListItems(RawConfigEntry entry)
    {
        if (entry.Items is { } items)
        {
            // A YAML list item may itself be "a, b" when copied from the key=value form.
            return items.SelectMany(i => SplitList(i.Text).Select(t => (t, i.Line)));
        }

        return SplitList(entry.Value ?? string.Empty).Select(t => (t, entry.ValueLine));
    }

    /// <summary>kvmstatsallow's items with the empty ones kept (<c>[""]</c>, <c>exits,,halt_*</c>): an empty item would
    /// otherwise vanish and leave an empty list, which allows everything. An empty value is the default (all).</summary>
    private static IEnumerable<(string Text, int Line)> AllowItems(RawConfigEntry entry)
    {
        if (entry.Items is { } items)
        {
            return items.SelectMany(i => i.Text.Split(',', StringSplitOptions.TrimEntries).Select(t => (t, i.Line)));
        }

        var value = entry.Value ?? string.Empty;
        return value.Trim().Length == 0 ? Enumerable.Empty<(string, int)>() : value.Split(',', StringSplitOptions.TrimEntries).Select(t => (t, entry.ValueLine));
    }

    private static IEnumerable<string> SplitList(string text) =>
        text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static T Scalar<T>(Dictionary<string, RawConfigEntry> byKey, string key, ConfigParseState state, T defaultValue, Func<string, int, T> parse)
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

    private static T ParseEnum<T>(string value, int line, string key, ConfigParseState state, string expected)
        where T : struct, Enum =>
        Enum.TryParse<T>(value, ignoreCase: true, out var parsed) && !char.IsAsciiDigit(value[0]) && Enum.IsDefined(parsed)
            ? parsed
            : Fail<T>(state, line, key, $"must be {expected}, got '{value}'");

    private static bool ParseBool(string value, int line, string key, ConfigParseState state) => value.ToLowerInvariant() switch
    {
        "true" or "yes" or "on" or "1" => true,
        "false" or "no" or "off" or "0" => false,
        _ => Fail<bool>(state, line, key, $"must be true or false, got '{value}'"),
    };

    private static T Fail<T>(ConfigParseState state, int line, string key, string message)
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

    private static readonly char[] ControlCharacters = Enumerable.Range(0, 0x20).Append(0x7F).Select(c => (char)c).ToArray();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex PrefixPattern();
}
