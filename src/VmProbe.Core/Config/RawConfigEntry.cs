namespace VmProbe.Config;

/// <summary>One key as a reader found it: its line, and either a scalar value (and the value's line) or list items with their lines.</summary>
internal sealed record RawConfigEntry(string Key, int Line, string? Value, List<(string Text, int Line)>? Items, int? ValueLineOrNull = null)
{
    public int ValueLine => ValueLineOrNull ?? Line;
}
