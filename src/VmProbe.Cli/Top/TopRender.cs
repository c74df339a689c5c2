using System.Globalization;
using VmProbe.Views;

namespace VmProbe.Cli.Top;

/// <summary>One screen of <c>vmprobe top</c> as plain lines, each at most the terminal's width; no escapes (see <see cref="TopScreen"/>).</summary>
internal static class TopRender
{
    /// <summary>Columns shown only when some VM has a value (their sources exist on this host).</summary>
    private static readonly HashSet<string> WhenPresent = new(StringComparer.Ordinal)
    {
        "exits_per_second", "top_exit_reason", "haltpoll_success_ratio", "ipc", "watts",
    };

    /// <summary>/proc/stat modes in the order the host line shows them (guest and steal early: a narrow screen cuts the right).</summary>
    private static readonly (string Mode, string Short)[] HostModes =
    {
        ("user", "us"), ("system", "sy"), ("guest", "gu"), ("steal", "st"), ("idle", "id"), ("iowait", "wa"),
        ("nice", "ni"), ("irq", "hi"), ("softirq", "si"), ("guest_nice", "gn"),
    };

    public const string Help = "q quit  < > sort  r reverse  / filter  up/down select  enter drill  esc back";

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
        }
        else
        {
            List(frame, state, width, lines, ref highlight);
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

    /// <summary>The list's columns for this frame and width: NAME first, then those with a source, cut from the right to fit.</summary>
    public static (int NameWidth, List<ViewColumn> Columns) Layout(ViewFrame frame, IReadOnlyList<VmViewRow> rows, int width)
    {
        var columns = ViewColumns.Screen.Where(c => !WhenPresent.Contains(c.Id)
            || frame.Vms.Any(vm => (c.Text is not null ? c.Text(vm) : c.Number(vm)?.ToString(CultureInfo.InvariantCulture)) is not null)).ToList();
        const int MinName = 8;
        while (columns.Count > 0 && 1 + MinName + columns.Sum(c => c.Width + 1) > width)
        {
            columns.RemoveAt(columns.Count - 1);
        }

        var longest = rows.Select(r => r.Name.Length).DefaultIfEmpty(4).Max();
        var nameWidth = Math.Clamp(longest, MinName, Math.Max(MinName, width - 1 - columns.Sum(c => c.Width + 1)));
        return (nameWidth, columns);
    }

    private static void List(ViewFrame frame, TopState state, int width, List<string> lines, ref (int Header, int Selected) highlight)
    {
        var rows = state.Rows(frame);
        var filter = state.Filter is { Length: > 0 } f ? $"  filter '{f}' ({rows.Count} of {frame.Vms.Count})" : string.Empty;
        var interval = frame.IntervalSeconds is { } s ? string.Create(CultureInfo.InvariantCulture, $"{s:0.0}s") : "-";
        lines.Add($"vmprobe top  {frame.Timestamp.ToLocalTime():HH:mm:ss}  interval {interval}  {frame.Vms.Count} VMs{filter}");
        lines.Add(HostLine(frame));
        lines.Add(string.Empty);
        var (nameWidth, columns) = Layout(frame, rows, width);
        // The separator before the sorted column shows the order: v largest first (names A-Z), ^ reversed.
        string Mark(string id) => id == state.SortColumn ? (state.Reverse ? "^" : "v") : " ";
        var header = Mark(TopState.NameColumn) + "NAME".PadRight(nameWidth)
            + string.Concat(columns.Select(c => Mark(c.Id) + Pad(c.Header, c.Width, c.Format == ViewFormat.Text)));
        highlight.Header = lines.Count;
        lines.Add(header);
        foreach (var row in rows)
        {
            if (row.Name == state.Selected)
            {
                highlight.Selected = lines.Count;
            }

            var marker = row.Name == state.Selected ? ">" : " ";
            lines.Add(marker + ViewColumns.Fit(row.Name, nameWidth).PadRight(nameWidth)
                + string.Concat(columns.Select(c => " " + Pad(c.Show(row), c.Width, c.Format == ViewFormat.Text))));
        }

        if (rows.Count == 0)
        {
            lines.Add(frame.Vms.Count == 0 ? " (no VMs found)" : " (no VM matches the filter)");
        }
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
            lines.Add($"{ViewColumns.Fit(rate.Name, 24),-24} {ViewColumns.Human(rate.PerSecond, ViewFormat.PerSecond),10}");
        }

        if (rates.Count == 0)
        {
            lines.Add(none);
        }
    }

    private static string HostLine(ViewFrame frame)
    {
        var parts = HostModes.Select(m => (m.Short, Value: frame.HostCpuCores.FirstOrDefault(r => r.Name == m.Mode)))
            .Where(m => m.Value is not null)
            .Select(m => $"{m.Short} {ViewColumns.Human(m.Value!.PerSecond, ViewFormat.Cores)}");
        return "host CPU (cores): " + string.Join("  ", parts);
    }

    private static string Pad(string text, int width, bool left) => left ? text.PadRight(width) : text.PadLeft(width);
}
