using System.Globalization;
using System.Text;

namespace VmProbe.Perf;

/// <summary>The event catalog, part 2: dynamic PMU events (<c>pmu/event</c>) described under /sys/bus/event_source/devices.</summary>
public static partial class PerfEventCatalog
{
    /// <summary>
    /// Parses <c>pmu/event</c> (or <c>pmu/event/</c>): reads the PMU's type from <c>&lt;root&gt;/&lt;pmu&gt;/type</c> and the
    /// event's terms (<c>event=0x02,umask=0x01</c>) from <c>events/&lt;event&gt;</c>, placed into config through <c>format/&lt;term&gt;</c>.
    /// </summary>
    public static PerfEventSpec ParseDynamic(string pmuSlashEvent, string eventSourceRoot = DefaultEventSourceRoot)
    {
        var parts = pmuSlashEvent.Trim().TrimEnd('/').Split('/');
        if (parts.Length != 2 || !IsSysfsName(parts[0]) || !IsSysfsName(parts[1]))
        {
            throw new UnknownPerfEventException(pmuSlashEvent, $"invalid PMU event '{pmuSlashEvent}': expected pmu/event (e.g. msr/tsc)", Array.Empty<string>());
        }

        var (pmu, eventName) = (parts[0], parts[1]);
        var pmuDir = Path.Combine(eventSourceRoot, pmu);
        if (!Directory.Exists(pmuDir))
        {
            var pmus = Directory.Exists(eventSourceRoot)
                ? Directory.GetDirectories(eventSourceRoot).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)
                : Enumerable.Empty<string>();
            throw new UnknownPerfEventException(
                pmuSlashEvent,
                $"unknown PMU '{pmu}' in perf event '{pmuSlashEvent}'; this machine has: {string.Join(", ", pmus)}",
                Array.Empty<string>());
        }

        var eventFile = Path.Combine(pmuDir, "events", eventName);
        if (!File.Exists(eventFile))
        {
            var known = Directory.Exists(Path.Combine(pmuDir, "events"))
                ? Directory.GetFiles(Path.Combine(pmuDir, "events")).Select(Path.GetFileName).OfType<string>()
                    .Where(n => !n.Contains('.', StringComparison.Ordinal)).Order(StringComparer.Ordinal)
                : Enumerable.Empty<string>();
            throw new UnknownPerfEventException(
                pmuSlashEvent,
                $"PMU '{pmu}' has no event '{eventName}'; it has: {string.Join(", ", known)}",
                Array.Empty<string>());
        }

        var type = uint.Parse(File.ReadAllText(Path.Combine(pmuDir, "type")).Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
        ulong config = 0;
        foreach (var term in File.ReadAllText(eventFile).Trim().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = term.IndexOf('=');
            var termName = eq < 0 ? term : term[..eq];
            var value = eq < 0 ? 1UL : ParseSysfsNumber(term[(eq + 1)..], eventFile);
            config |= PlaceTerm(Path.Combine(pmuDir, "format", termName), termName, value, pmuSlashEvent);
        }

        var canonical = SnakeCase(pmu) + "_" + SnakeCase(eventName);
        return new PerfEventSpec(canonical, PerfEventKind.Dynamic, type, config);
    }

    private static ulong PlaceTerm(string formatFile, string termName, ulong value, string eventName)
    {
        if (termName == "config")
        {
            return value;
        }

        if (!File.Exists(formatFile))
        {
            throw new VmProbeException($"perf event '{eventName}' uses term '{termName}' which its PMU does not describe in {formatFile}", "perf_event,format", ProbeErrorKind.NotSupported);
        }

        // Format is "config:0-7" or "config:0-7,21" or "config1:0-15"; only config is carried in a PerfEventSpec.
        var format = File.ReadAllText(formatFile).Trim();
        var colon = format.IndexOf(':');
        if (colon < 0 || format[..colon] != "config")
        {
            throw new VmProbeException($"perf event '{eventName}' sets '{termName}' in {format}; only config bits are supported", "perf_event,format", ProbeErrorKind.NotSupported);
        }

        ulong result = 0;
        var sourceBit = 0;
        foreach (var range in format[(colon + 1)..].Split(','))
        {
            var dash = range.IndexOf('-');
            var low = int.Parse(dash < 0 ? range : range[..dash], CultureInfo.InvariantCulture);
            var high = dash < 0 ? low : int.Parse(range[(dash + 1)..], CultureInfo.InvariantCulture);
            for (var bit = low; bit <= high && bit < 64; bit++, sourceBit++)
            {
                if (((value >> sourceBit) & 1) != 0)
                {
                    result |= 1UL << bit;
                }
            }
        }

        return result;
    }

    private static ulong ParseSysfsNumber(string text, string file)
    {
        text = text.Trim();
        var ok = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        return ok ? value : throw new VmProbeException($"cannot parse '{text}' in {file}", "perf_event,format", ProbeErrorKind.InvalidData);
    }
}
