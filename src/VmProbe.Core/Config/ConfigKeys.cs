using VmProbe.Perf;

namespace VmProbe.Config;

/// <summary>The config keys, in their normalized form (lower case, no '_' or '-'), and the perf event keys with the kind each expects.</summary>
internal static class ConfigKeys
{
    public const string KeyPrefix = "prefix";
    public const string KeyDelay = "delay";
    public const string KeyEndpoint = "endpoint";
    public const string KeyUrl = "url";
    public const string KeyPerfHardware = "perfhardware";
    public const string KeyPerfSoftware = "perfsoftware";
    public const string KeyPerfHardwareCache = "perfhardwarecache";
    public const string KeyPerfTracepoint = "perftracepoint";
    public const string KeyNaming = "naming";
    public const string KeyAttribution = "attribution";
    public const string KeyDiscovery = "discovery";
    public const string KeyPerCpu = "percpu";
    public const string KeyAllowRemoteUrl = "allowremoteurl";
    public const string KeyKvmStats = "kvmstats";
    public const string KeyKvmStatsAllow = "kvmstatsallow";
    public const string KeyKvmExits = "kvmexits";
    public const string KeyKvmExitReasons = "kvmexitreasons";
    public const string KeyKvmExitTopN = "kvmexittopn";
    public const string KeyKvmExitPerVcpu = "kvmexitpervcpu";
    public const string KeyCsvDir = "csvdir";
    public const string KeyPowermeter = "powermeter";
    public const string KeyGuestApi = "guestapi";

    /// <summary>Every key, in the order the README documents them.</summary>
    public static IReadOnlyList<string> All { get; } = new[]
    {
        KeyPrefix, KeyDelay, KeyEndpoint, KeyUrl, KeyPerfHardware, KeyPerfSoftware, KeyPerfHardwareCache, KeyPerfTracepoint,
        KeyNaming, KeyAttribution, KeyDiscovery, KeyPerCpu, KeyAllowRemoteUrl, KeyKvmStats, KeyKvmStatsAllow,
        KeyKvmExits, KeyKvmExitReasons, KeyKvmExitTopN, KeyKvmExitPerVcpu, KeyCsvDir, KeyPowermeter, KeyGuestApi,
    };

    /// <summary>Event keys in the order their events appear in ProbeConfig.Events, with the kind each expects.</summary>
    public static readonly (string Key, PerfEventKind Kind, string What)[] EventKeys =
    {
        (KeyPerfHardware, PerfEventKind.Hardware, "hardware"),
        (KeyPerfSoftware, PerfEventKind.Software, "software"),
        (KeyPerfHardwareCache, PerfEventKind.HardwareCache, "hardware-cache"),
        (KeyPerfTracepoint, PerfEventKind.Tracepoint, "tracepoint"),
    };

    /// <summary>The key as written with '_' and '-' dropped and in lower case (per_cpu, PerCpu and per-cpu are percpu).</summary>
    public static string Normalize(string key) => key.Replace("_", string.Empty, StringComparison.Ordinal).Replace("-", string.Empty, StringComparison.Ordinal).ToLowerInvariant();
}
