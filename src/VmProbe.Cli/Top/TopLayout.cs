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
    public const int MinName = 8;

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
        var present = Present(frame);
        var sets = new List<List<ViewColumn>> { new() };
        var used = 1 + MinName;
        foreach (var column in present)
        {
            if (sets[^1].Count > 0 && used + column.Width + 1 > width)
            {
                sets.Add(new List<ViewColumn>());
                used = 1 + MinName;
            }

            sets[^1].Add(column);
            used += column.Width + 1;
        }

        set = ((set % sets.Count) + sets.Count) % sets.Count;
        var shown = sets[set];
        var longest = rows.Select(r => r.Name.Length).DefaultIfEmpty(4).Max();
        var nameWidth = Math.Clamp(longest, MinName, Math.Max(MinName, width - 1 - shown.Sum(c => c.Width + 1)));
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
