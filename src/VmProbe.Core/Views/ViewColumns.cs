using System.Globalization;

namespace VmProbe.Views;

/// <summary>How a column's value reads on screen.</summary>
public enum ViewFormat
{
    Text,
    Cores,
    Percent,
    Ratio,
    PerSecond,
    Bytes,
}

/// <summary>
/// One column of the per-VM rows: its record name (log header, CSV header), its screen header and width, and its value.
/// Screen columns combine read+write and receive+transmit; record columns keep them apart for offline analysis.
/// </summary>
public sealed record ViewColumn(string Id, string Header, int Width, ViewFormat Format, Func<VmViewRow, double?> Number,
    Func<VmViewRow, string?>? Text = null, bool OnScreen = true, bool InRecord = true)
{
    /// <summary>The cell as a person reads it, at most <see cref="Width"/> terminal cells; "-" when there is no value.</summary>
    public string Show(VmViewRow row) => Text is not null ? ViewColumns.Fit(Text(row) ?? "-", Width) : ViewColumns.Human(Number(row), Format);

    /// <summary>The cell for a machine: invariant-culture number (ratio, not percent), empty when there is no value.</summary>
    public string Record(VmViewRow row) => Text is not null ? Text(row) ?? string.Empty : ViewColumns.Raw(Number(row));
}

/// <summary>The columns every consumer of <see cref="ViewFrame"/> shares.</summary>
public static class ViewColumns
{
    public static IReadOnlyList<ViewColumn> All { get; } = new ViewColumn[]
    {
        new("cpu_cores", "CPU", 5, ViewFormat.Cores, r => r.CpuCores),
        new("steal_ratio", "STEAL%", 6, ViewFormat.Percent, r => r.StealRatio),
        new("guest_cores", "GUEST", 5, ViewFormat.Cores, r => r.GuestCores),
        new("exits_per_second", "EXITS/s", 7, ViewFormat.PerSecond, r => r.ExitsPerSecond),
        new("top_exit_reason", "TOPEXIT", 12, ViewFormat.Text, _ => null, r => r.TopExitReason),
        new("haltpoll_success_ratio", "HPOLL%", 6, ViewFormat.Percent, r => r.HaltPollSuccessRatio),
        new("ipc", "IPC", 5, ViewFormat.Ratio, r => r.Ipc),
        new("rss_bytes", "RSS", 6, ViewFormat.Bytes, r => r.RssBytes),
        new("disk_bytes_per_second", "DISK/s", 6, ViewFormat.Bytes, r => r.DiskBytesPerSecond, InRecord: false),
        new("disk_read_bytes_per_second", "DISKR/s", 7, ViewFormat.Bytes, r => r.DiskReadBytesPerSecond, OnScreen: false),
        new("disk_write_bytes_per_second", "DISKW/s", 7, ViewFormat.Bytes, r => r.DiskWriteBytesPerSecond, OnScreen: false),
        new("net_bytes_per_second", "NET/s", 6, ViewFormat.Bytes, r => r.NetBytesPerSecond, InRecord: false),
        new("net_receive_bytes_per_second", "NETRX/s", 7, ViewFormat.Bytes, r => r.NetReceiveBytesPerSecond, OnScreen: false),
        new("net_transmit_bytes_per_second", "NETTX/s", 7, ViewFormat.Bytes, r => r.NetTransmitBytesPerSecond, OnScreen: false),
        new("watts", "WATTS", 6, ViewFormat.Ratio, r => r.Watts),
    };

    public static IReadOnlyList<ViewColumn> Screen { get; } = All.Where(c => c.OnScreen).ToList();

    public static IReadOnlyList<ViewColumn> Record { get; } = All.Where(c => c.InRecord).ToList();

    /// <summary>A number for a machine: shortest round-trip form, invariant culture; empty for null or not finite.</summary>
    public static string Raw(double? value) =>
        value is { } v && double.IsFinite(v) ? Math.Round(v, 6).ToString("0.######", CultureInfo.InvariantCulture) : string.Empty;

    /// <summary>A number for a person, at most 7 characters: 1.02 cores, 12.3 %, 4.5k/s, 128M; "-" for null.</summary>
    public static string Human(double? value, ViewFormat format)
    {
        if (value is not { } v || !double.IsFinite(v))
        {
            return "-";
        }

        var inv = CultureInfo.InvariantCulture;
        return format switch
        {
            ViewFormat.Cores => v.ToString(v >= 100 ? "0" : "0.00", inv),
            ViewFormat.Percent => (v * 100).ToString(v >= 0.9995 ? "0" : "0.0", inv),
            ViewFormat.Ratio => v.ToString(v >= 100 ? "0" : "0.00", inv),
            ViewFormat.PerSecond => Scaled(v, 1000, string.Empty),
            ViewFormat.Bytes => Scaled(v, 1024, "B"),
            _ => v.ToString(inv),
        };
    }

    /// <summary><paramref name="text"/> cut to <paramref name="width"/> terminal cells (a trailing '~' marks the cut).</summary>
    public static string Fit(string text, int width) => DisplayWidth.Fit(text, width);

    private static string Scaled(double value, double step, string unit)
    {
        string[] suffixes = { string.Empty, "k", "M", "G", "T", "P" };
        var i = 0;
        while (Math.Abs(value) >= 999.5 && i < suffixes.Length - 1)
        {
            value /= step;
            i++;
        }

        var number = value.ToString(i == 0 || value >= 9.95 ? "0" : "0.0", CultureInfo.InvariantCulture);
        return i == 0 && unit == "B" ? number : number + (unit == "B" ? suffixes[i].ToUpperInvariant() : suffixes[i]);
    }
}
