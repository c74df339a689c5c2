using VmProbe.Views;

namespace VmProbe.Cli.Top;

/// <summary>What the person at the terminal chose: sort column and order, name filter, selected row, drilled VM.</summary>
internal sealed class TopState
{
    public const string NameColumn = "name";

    /// <summary>The column sorted by: <see cref="NameColumn"/> or a <see cref="ViewColumn.Id"/>.</summary>
    public string SortColumn { get; set; } = "cpu_cores";

    /// <summary>False: largest first (names: A to Z).</summary>
    public bool Reverse { get; set; }

    /// <summary>Only VMs whose name contains this (case-insensitive); null for all.</summary>
    public string? Filter { get; set; }

    /// <summary>The filter being typed (after '/' or 'g'), null when not editing.</summary>
    public string? FilterInput { get; set; }

    /// <summary>The selected VM's name (the row Enter drills into).</summary>
    public string? Selected { get; set; }

    /// <summary>The VM shown in detail, null for the list.</summary>
    public string? Drilled { get; set; }

    public bool Quit { get; set; }

    /// <summary>The first row shown (of <see cref="Rows"/>); the render keeps the selected row inside the window.</summary>
    public int Offset { get; set; }

    /// <summary>The first drill-down line shown below its title.</summary>
    public int DrillOffset { get; set; }

    /// <summary>Rows (or drill-down lines) the last render had room for: what PgUp/PgDn move by.</summary>
    public int PageRows { get; set; } = 10;

    /// <summary>Which set of columns a narrow terminal shows (Tab cycles); taken modulo the sets that exist.</summary>
    public int ColumnSet { get; set; }

    public bool Matches(string name) => Filter is not { Length: > 0 } filter || name.Contains(filter, StringComparison.OrdinalIgnoreCase);

    /// <summary>The rows shown, in order.</summary>
    public List<VmViewRow> Rows(ViewFrame frame)
    {
        var rows = frame.Vms.Where(vm => Matches(vm.Name)).ToList();
        if (SortColumn == NameColumn)
        {
            rows.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        }
        else if (ViewColumns.All.FirstOrDefault(c => c.Id == SortColumn) is { } column)
        {
            // Largest first, rows without a value last, then by name so equal rows keep still.
            rows = (column.Text is not null
                    ? rows.OrderBy(r => column.Text(r) is null).ThenBy(r => column.Text(r), StringComparer.Ordinal)
                    : rows.OrderBy(r => column.Number(r) is null).ThenByDescending(r => column.Number(r) ?? 0))
                .ThenBy(r => r.Name, StringComparer.Ordinal).ToList();
        }

        if (Reverse)
        {
            rows.Reverse();
        }

        if (Selected is null || !rows.Any(r => r.Name == Selected))
        {
            Selected = rows.FirstOrDefault()?.Name;
        }

        return rows;
    }
}
