using System.Globalization;
using System.Text;

namespace VmProbe.Views;

/// <summary>
/// Terminal cells a text takes, a small wcwidth: East Asian wide/fullwidth characters and emoji take 2, combining marks,
/// format characters and controls 0, the rest 1. Padding and cutting by characters would let a CJK or emoji VM name
/// overflow its column and wrap the row (which scrolls the screen).
/// </summary>
public static class DisplayWidth
{
    // Inclusive ranges of code points that take two cells (EastAsianWidth W/F and the emoji blocks).
    private static readonly (int First, int Last)[] Wide =
    {
        (0x1100, 0x115F), (0x231A, 0x231B), (0x2329, 0x232A), (0x23E9, 0x23EC), (0x23F0, 0x23F0), (0x23F3, 0x23F3),
        (0x25FD, 0x25FE), (0x2614, 0x2615), (0x2648, 0x2653), (0x267F, 0x267F), (0x2693, 0x2693), (0x26A1, 0x26A1),
        (0x26AA, 0x26AB), (0x26BD, 0x26BE), (0x26C4, 0x26C5), (0x26CE, 0x26CE), (0x26D4, 0x26D4), (0x26EA, 0x26EA),
        (0x26F2, 0x26F3), (0x26F5, 0x26F5), (0x26FA, 0x26FA), (0x26FD, 0x26FD), (0x2705, 0x2705), (0x270A, 0x270B),
        (0x2728, 0x2728), (0x274C, 0x274C), (0x274E, 0x274E), (0x2753, 0x2755), (0x2757, 0x2757), (0x2795, 0x2797),
        (0x27B0, 0x27B0), (0x27BF, 0x27BF), (0x2B1B, 0x2B1C), (0x2B50, 0x2B50), (0x2B55, 0x2B55),
        (0x2E80, 0x303E), (0x3041, 0x33FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xA000, 0xA4CF), (0xA960, 0xA97F),
        (0xAC00, 0xD7A3), (0xF900, 0xFAFF), (0xFE10, 0xFE19), (0xFE30, 0xFE6F), (0xFF00, 0xFF60), (0xFFE0, 0xFFE6),
        (0x16FE0, 0x18AFF), (0x1B000, 0x1B2FF), (0x1F004, 0x1F004), (0x1F0CF, 0x1F0CF), (0x1F18E, 0x1F18E),
        (0x1F191, 0x1F19A), (0x1F200, 0x1F251), (0x1F300, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F7E0, 0x1F7EB),
        (0x1F90C, 0x1F9FF), (0x1FA70, 0x1FAFF), (0x20000, 0x2FFFD), (0x30000, 0x3FFFD),
    };

    /// <summary>Cells one code point takes.</summary>
    public static int Of(Rune rune)
    {
        var value = rune.Value;
        if (value < 0x7F)
        {
            return value < 0x20 ? 0 : 1;
        }

        var category = Rune.GetUnicodeCategory(rune);
        if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format or UnicodeCategory.Control)
        {
            return 0;
        }

        return IsWide(value) ? 2 : 1;
    }

    /// <summary>Cells <paramref name="text"/> takes (a lone surrogate counts as one replacement cell).</summary>
    public static int Of(string text)
    {
        var cells = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            cells += Of(rune);
        }

        return cells;
    }

    /// <summary><paramref name="text"/> cut to at most <paramref name="width"/> cells, a trailing '~' marking the cut.</summary>
    public static string Fit(string text, int width)
    {
        if (Of(text) <= width)
        {
            return text;
        }

        var room = width <= 1 ? width : width - 1;
        var cut = new StringBuilder();
        var cells = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            var w = Of(rune);
            if (cells + w > room)
            {
                break;
            }

            cut.Append(rune.ToString());
            cells += w;
        }

        // A wide character that did not fit leaves one cell short: fill it so columns stay aligned.
        return width <= 1 ? cut.ToString() : cut.Append(' ', room - cells).Append('~').ToString();
    }

    public static string PadRight(string text, int width) => text + new string(' ', Math.Max(0, width - Of(text)));

    public static string PadLeft(string text, int width) => new string(' ', Math.Max(0, width - Of(text))) + text;

    private static bool IsWide(int value)
    {
        var (low, high) = (0, Wide.Length - 1);
        while (low <= high)
        {
            var mid = (low + high) / 2;
            if (value < Wide[mid].First)
            {
                high = mid - 1;
            }
            else if (value > Wide[mid].Last)
            {
                low = mid + 1;
            }
            else
            {
                return true;
            }
        }

        return false;
    }
}
