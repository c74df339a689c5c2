using System.Globalization;
using VmProbe.Views;

namespace VmProbe.Cli.Top;

/// <summary>One screen of <c>vmprobe top</c> as plain lines, each at most the terminal's width in cells; no escapes (see <see cref="TopScreen"/>).</summary>
internal static class TopRender
{
    /// <summary>/proc/stat modes in the order the host line shows them (guest and steal early: a narrow screen cuts the right).</summary>
    private static readonly (string Mode, string Short)[] HostModes =
    {
        ("user", "us"), ("system", "sy"), ("guest", "gu"), ("steal", "st"), ("idle", "id"), ("iowait", "wa"),
        ("nice", "ni"), ("irq", "hi"), ("softirq", "si"), ("guest_nice", "gn"),
    };

    public const string Help = "q quit  < > sort  r rev  / filter  enter drill  esc back  tab cols  pgup/pgdn";

    /// <summary>Lines above the list's rows: title, host CPU, status (scroll position, held-back columns), column header.</summary>
    private const int ListChrome = 4;

    /// <summary>The lines; <paramref name="highlight"/> gets the header's and the selected row's line numbers.</summary>
    public static List<string> Lines(ViewFrame? frame, TopState state, int width, int height, string? status, out (int Header, int Selected) highlight)
    {
        highlight = (-1, -1);
        var lines = new List<string>();
        if (frame is null)
        {
            lines.Add("vmprobe top: collecting the first interval...");
        }
        else if (state.Drilled is { } drilled)
        {
            Drill(frame, drilled, lines, ref highlight);
            Scroll(state, height, lines, ref highlight);
        }
        else
        {
            List(frame, state, width, height, lines, ref highlight);
        }

        var footer = state.FilterInput is { } typing ? $"filter (enter to apply, esc to cancel): {typing}_" : status ?? Help;
        if (height > 1 && lines.Count > height - 1)
        {
            lines.RemoveRange(height - 1, lines.Count - (height - 1));
        }

        while (height > 1 && lines.Count < height - 1)
        {
            lines.Add(string.Empty);
        }

        lines.Add(footer);
        return lines.Select(line => ViewColumns.Fit(Printable(line), width)).ToList();
    }

    /// <summary>
    /// Control characters shown as '?': VM names (QEMU's -name, a log line in the footer) reach the screen, and an ESC
    /// or newline in one would move the cursor or change the terminal's state.
    /// </summary>
    internal static string Printable(string line) =>
        !line.Any(char.IsControl)
            ? line
            : string.Create(line.Length, line, static (span, text) =>
            {
                for (var i = 0; i < text.Length; i++)
                {
                    span[i] = char.IsControl(text[i]) ? '?' : text[i];
                }
            });

    private static void List(ViewFrame frame, TopState state, int width, int height, List<string> lines, ref (int Header, int Selected) highlight)
    {
        var rows = state.Rows(frame);
        var filter = state.Filter is { Length: > 0 } f ? $"  filter '{f}' ({rows.Count} of {frame.Vms.Count})" : string.Empty;
        var interval = frame.IntervalSeconds is { } s ? string.Create(CultureInfo.InvariantCulture, $"{s:0.0}s") : "-";
        lines.Add($"vmprobe top  {frame.Timestamp.ToLocalTime():HH:mm:ss}  interval {interval}  {frame.Vms.Count} VMs{filter}");
        lines.Add(HostLine(frame, width));
        var layout = TopLayout.Columns(frame, rows, width, state.ColumnSet);
        state.ColumnSet = layout.Set;

        // Without a height (plain frames) every row is printed; otherwise a window that follows the selection.
        var page = height > 1 ? Math.Max(1, height - 1 - ListChrome) : Math.Max(1, rows.Count);
        state.PageRows = page;
        state.Offset = TopLayout.Window(state.Offset, rows.FindIndex(r => r.Name == state.Selected), page, rows.Count);
        var shown = rows.Skip(state.Offset).Take(page).ToList();
        lines.Add(Status(state, rows.Count, shown.Count, layout));

        // The separator before the sorted column shows the order: v largest first (names A-Z), ^ reversed.
        string Mark(string id) => id == state.SortColumn ? (state.Reverse ? "^" : "v") : " ";
        var header = Mark(TopState.NameColumn) + "NAME".PadRight(layout.NameWidth)
            + string.Concat(layout.Shown.Select(c => Mark(c.Id) + Pad(c.Header, c.Width, c.Format == ViewFormat.Text)));
        highlight.Header = lines.Count;
        lines.Add(header);
        foreach (var row in shown)
        {
            if (row.Name == state.Selected)
            {
                highlight.Selected = lines.Count;
            }

            var marker = row.Name == state.Selected ? ">" : " ";
            lines.Add(marker + DisplayWidth.PadRight(ViewColumns.Fit(row.Name, layout.NameWidth), layout.NameWidth)
                + string.Concat(layout.Shown.Select(c => " " + Pad(c.Show(row), c.Width, c.Format == ViewFormat.Text))));
        }

        if (rows.Count == 0)
        {
            lines.Add(frame.Vms.Count == 0 ? " (no VMs found)" : " (no VM matches the filter)");
        }
    }

    /// <summary>The line above the header: which rows are in view when not all fit, the columns held back, a hidden sort column.</summary>
    private static string Status(TopState state, int rows, int shown, TopColumns layout)
    {
        var parts = new List<string>();
        if (shown < rows)
        {
            parts.Add($"rows {state.Offset + 1}-{state.Offset + shown} of {rows}");
        }

        if (layout.Hidden.Count > 0)
        {
            parts.Add($"+{layout.Hidden.Count} cols (tab: set {layout.Set + 1}/{layout.Sets}): {string.Join(' ', layout.Hidden.Select(c => c.Header))}");
        }

        if (layout.Hidden.FirstOrDefault(c => c.Id == state.SortColumn) is { } sorted)
        {
            parts.Insert(0, $"sorted by {sorted.Header}");
        }

        return string.Join("   ", parts);
    }

    /// <summary>The drill-down below its title as a window of the height: Up/Down/PgUp/PgDn/Home/End move it.</summary>
    private static void Scroll(TopState state, int height, List<string> lines, ref (int Header, int Selected) highlight)
    {
        var page = height > 1 ? Math.Max(1, height - 2) : lines.Count;
        var body = lines.Count - 1;
        state.PageRows = page;
        state.DrillOffset = Math.Clamp(state.DrillOffset, 0, Math.Max(0, body - page));
        if (body <= page)
        {
            return;
        }

        lines[0] += $"  lines {state.DrillOffset + 1}-{state.DrillOffset + page} of {body}";
        lines.RemoveRange(1 + state.DrillOffset + page, body - state.DrillOffset - page);
        lines.RemoveRange(1, state.DrillOffset);
        highlight.Header = highlight.Header - state.DrillOffset is var at && at >= 1 && at < lines.Count ? at : -1;
    }

    private static void Drill(ViewFrame frame, string name, List<string> lines, ref (int Header, int Selected) highlight)
    {
        lines.Add($"vmprobe top > {name}  {frame.Timestamp.ToLocalTime():HH:mm:ss}  (esc back)");
        var vm = frame.Vms.FirstOrDefault(v => v.Name == name);
        if (vm is null)
        {
            lines.Add($"{name} is gone (not found this interval)");
            return;
        }

        lines.Add(string.Join("  ", ViewColumns.Screen.Select(c => (c.Header, Value: c.Show(vm))).Where(c => c.Value != "-")
            .Select(c => $"{c.Header.ToLowerInvariant()} {c.Value}")));
        lines.Add(string.Empty);
        highlight.Header = lines.Count;
        lines.Add($"{"VCPU",-6} {"CPU",6} {"STEAL%",7} {"EXITS/s",8}");
        foreach (var vcpu in vm.Vcpus)
        {
            lines.Add($"{vcpu.Vcpu,-6} {ViewColumns.Human(vcpu.CpuCores, ViewFormat.Cores),6} {ViewColumns.Human(vcpu.StealRatio, ViewFormat.Percent),7} {ViewColumns.Human(vcpu.ExitsPerSecond, ViewFormat.PerSecond),8}");
        }

        if (vm.Vcpus.Count == 0)
        {
            lines.Add("(no per-vCPU figures)");
        }

        lines.Add(string.Empty);
        Rates(lines, "EXIT REASON", vm.ExitReasons, "(no KVM exit counts: kvmexits off or no KVM here)");
        lines.Add(string.Empty);
        Rates(lines, "EVENT", vm.Events, "(no perf events: add perfsoftware/perfhardware to the config)");
    }

    private static void Rates(List<string> lines, string title, IReadOnlyList<ViewRate> rates, string none)
    {
        lines.Add($"{title,-24} {"PER SEC",10}");
        foreach (var rate in rates)
        {
            lines.Add($"{DisplayWidth.PadRight(ViewColumns.Fit(rate.Name, 24), 24)} {ViewColumns.Human(rate.PerSecond, ViewFormat.PerSecond),10}");
        }

        if (rates.Count == 0)
        {
            lines.Add(none);
        }
    }

    /// <summary>The host's CPU by mode; when that is wider than the screen, a compact form (single spaces, one decimal) so hi/si/gn stay at 80 columns.</summary>
    private static string HostLine(ViewFrame frame, int width)
    {
        var modes = HostModes.Select(m => (m.Short, Value: frame.HostCpuCores.FirstOrDefault(r => r.Name == m.Mode)))
            .Where(m => m.Value is not null).Select(m => (m.Short, m.Value!.PerSecond)).ToList();
        var full = "host CPU (cores): " + string.Join("  ", modes.Select(m => $"{m.Short} {ViewColumns.Human(m.PerSecond, ViewFormat.Cores)}"));
        return DisplayWidth.Of(full) <= width ? full
            : "host CPU: " + string.Join(' ', modes.Select(m => $"{m.Short} {Compact(m.PerSecond)}"));
    }

    /// <summary>At most 3 characters below 1000 cores: 0, 0.4, 12.</summary>
    private static string Compact(double? cores) => cores switch
    {
        null or double.NaN => "-",
        < 0.05 and > -0.05 => "0",
        < 9.95 => cores.Value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => cores.Value.ToString("0", CultureInfo.InvariantCulture),
    };

    private static string Pad(string text, int width, bool left) => left ? DisplayWidth.PadRight(text, width) : DisplayWidth.PadLeft(text, width);
}
