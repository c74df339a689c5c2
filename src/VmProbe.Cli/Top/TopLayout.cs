using System.Globalization;
using VmProbe.Views;

namespace VmProbe.Cli.Top;

/// <summary>The list's columns for one render: those shown, those a narrow terminal holds back (Tab shows them), and the name's width.</summary>
internal sealed record TopColumns(int NameWidth, IReadOnlyList<ViewColumn> Shown, IReadOnlyList<ViewColumn> Hidden, int Set, int Sets);

/// <summary>
/// Which columns and rows of the list fit the terminal. Columns are cut into sets that each fit the width (NAME in every
/// set), so nothing is dropped silently at 80 columns: the status line names what is held back and Tab cycles the sets.
/// Rows are a window that keeps the selected row in view.
/// </summary>
internal static class TopLayout
{
    /// <summary>The name width kept even on a narrow terminal when names are this long: OpenStack's <c>instance-0000001a</c>.</summary>
    public const int MinName = 17;

    /// <summary>What short names reserve (room left over widens them).</summary>
    public const int ShortName = 8;

    /// <summary>The most a long name reserves before the columns are cut into sets; room left over still widens it.</summary>
    public const int MaxName = 24;

    /// <summary>Columns shown only when some VM has a value (their sources exist on this host).</summary>
    private static readonly HashSet<string> WhenPresent = new(StringComparer.Ordinal)
    {
        "exits_per_second", "top_exit_reason", "haltpoll_success_ratio", "ipc", "watts",
    };

    /// <summary>The screen columns this frame has a source for, in screen order.</summary>
    public static List<ViewColumn> Present(ViewFrame frame) =>
        ViewColumns.Screen.Where(c => !WhenPresent.Contains(c.Id)
            || frame.Vms.Any(vm => (c.Text is not null ? c.Text(vm) : c.Number(vm)?.ToString(CultureInfo.InvariantCulture)) is not null)).ToList();

    /// <summary>Column set <paramref name="set"/> (modulo their number) for <paramref name="width"/>; the name widens into room left over.</summary>
    public static TopColumns Columns(ViewFrame frame, IReadOnlyList<VmViewRow> rows, int width, int set)
    {
        // The name comes first: rows that cannot be told apart are worse than columns held back into the Tab sets.
        var present = Present(frame);
        var longest = rows.Select(r => DisplayWidth.Of(r.Name)).DefaultIfEmpty(4).Max();
        var widest = present.Select(c => c.Width + 1).DefaultIfEmpty(0).Max();
        var reserved = Math.Min(Math.Clamp(longest, ShortName, MaxName), Math.Max(Math.Clamp(longest, ShortName, MinName), width - 1 - widest));
        var sets = new List<List<ViewColumn>> { new() };
        var used = 1 + reserved;
        foreach (var column in present)
        {
            if (sets[^1].Count > 0 && used + column.Width + 1 > width)
            {
                sets.Add(new List<ViewColumn>());
                used = 1 + reserved;
            }

            sets[^1].Add(column);
            used += column.Width + 1;
        }

        set = ((set % sets.Count) + sets.Count) % sets.Count;
        var shown = sets[set];
        var nameWidth = Math.Clamp(longest, reserved, Math.Max(reserved, width - 1 - shown.Sum(c => c.Width + 1)));
        return new TopColumns(nameWidth, shown, present.Except(shown).ToList(), set, sets.Count);
    }

    /// <summary>The first of <paramref name="page"/> rows to show so that row <paramref name="selected"/> (-1: none) is in view.</summary>
    public static int Window(int offset, int selected, int page, int count)
    {
        if (selected >= 0 && selected < offset)
        {
            offset = selected;
        }
        else if (selected >= offset + page)
        {
            offset = selected - page + 1;
        }

        return Math.Clamp(offset, 0, Math.Max(0, count - page));
    }
}
