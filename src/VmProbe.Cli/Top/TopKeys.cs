using VmProbe.Cli.Native;
using VmProbe.Views;

namespace VmProbe.Cli.Top;

internal enum TopKey
{
    Char,
    Up,
    Down,
    Left,
    Right,
    Enter,
    Escape,
    Backspace,
    Interrupt,
    PageUp,
    PageDown,
    Home,
    End,
    Tab,
}

/// <summary>The keys of <c>vmprobe top</c>: decoding the bytes a terminal sends, and what each does to the <see cref="TopState"/>.</summary>
internal static class TopKeys
{
    /// <summary>
    /// The keys in one read. Cursor keys arrive in one piece as ESC [ or ESC O, parameters, and a final byte: A-D arrows,
    /// H/F Home/End, or a number and ~ (1/7 Home, 4/8 End, 5 PgUp, 6 PgDn, as xterm, tmux and rxvt send them). Other
    /// sequences are skipped whole; a lone ESC is Escape.
    /// </summary>
    public static List<(TopKey Key, char Char)> Decode(ReadOnlySpan<byte> bytes)
    {
        var keys = new List<(TopKey, char)>();
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            if (b == 0x1b && i + 2 < bytes.Length && (bytes[i + 1] == (byte)'[' || bytes[i + 1] == (byte)'O'))
            {
                var end = i + 2;
                while (end < bytes.Length - 1 && bytes[end] is >= 0x20 and < 0x40)
                {
                    end++; // parameter and intermediate bytes
                }

                var parameter = bytes[(i + 2)..end];
                TopKey? cursor = (char)bytes[end] switch
                {
                    'A' => TopKey.Up,
                    'B' => TopKey.Down,
                    'C' => TopKey.Right,
                    'D' => TopKey.Left,
                    'H' => TopKey.Home,
                    'F' => TopKey.End,
                    '~' when parameter.SequenceEqual("1"u8) || parameter.SequenceEqual("7"u8) => TopKey.Home,
                    '~' when parameter.SequenceEqual("4"u8) || parameter.SequenceEqual("8"u8) => TopKey.End,
                    '~' when parameter.SequenceEqual("5"u8) => TopKey.PageUp,
                    '~' when parameter.SequenceEqual("6"u8) => TopKey.PageDown,
                    _ => null,
                };
                i = end;
                if (cursor is { } key)
                {
                    keys.Add((key, '\0'));
                }

                continue;
            }

            keys.Add(b switch
            {
                0x1b => (TopKey.Escape, '\0'),
                (byte)'\r' or (byte)'\n' => (TopKey.Enter, '\0'),
                (byte)'\t' => (TopKey.Tab, '\0'),
                0x7f or 0x08 => (TopKey.Backspace, '\0'),
                0x03 => (TopKey.Interrupt, '\0'),
                _ => (TopKey.Char, (char)b),
            });
        }

        return keys;
    }

    public static void Apply(TopState state, ViewFrame? frame, TopKey key, char ch)
    {
        if (key == TopKey.Interrupt)
        {
            state.Quit = true;
            return;
        }

        if (state.FilterInput is { } typing)
        {
            switch (key)
            {
                case TopKey.Enter:
                    state.Filter = typing.Length == 0 ? null : typing;
                    state.FilterInput = null;
                    break;
                case TopKey.Escape:
                    state.FilterInput = null;
                    break;
                case TopKey.Backspace:
                    state.FilterInput = typing.Length == 0 ? typing : typing[..^1];
                    break;
                case TopKey.Char when ch >= ' ' && ch < (char)0x7f && typing.Length < 64:
                    state.FilterInput = typing + ch;
                    break;
            }

            return;
        }

        switch (key, ch)
        {
            case (TopKey.Char, 'q'):
                state.Quit = true;
                break;
            case (TopKey.Char, '/') or (TopKey.Char, 'g') or (TopKey.Char, 'f'):
                state.FilterInput = state.Filter ?? string.Empty;
                break;
            case (TopKey.Char, 'c'):
                state.Filter = null;
                break;
            case (TopKey.Char, '<') or (TopKey.Char, '>'):
                MoveSort(state, frame, ch == '>' ? 1 : -1);
                break;
            case (TopKey.Char, 'r'):
                state.Reverse = !state.Reverse;
                break;
            case (TopKey.Up, _) or (TopKey.Char, 'k'):
                Move(state, frame, -1);
                break;
            case (TopKey.Down, _) or (TopKey.Char, 'j'):
                Move(state, frame, 1);
                break;
            case (TopKey.PageUp, _):
                Move(state, frame, -state.PageRows);
                break;
            case (TopKey.PageDown, _) or (TopKey.Char, ' '):
                Move(state, frame, state.PageRows);
                break;
            case (TopKey.Home, _):
                Move(state, frame, -int.MaxValue / 2);
                break;
            case (TopKey.End, _):
                Move(state, frame, int.MaxValue / 2);
                break;
            case (TopKey.Tab, _) or (TopKey.Char, 'w'):
                state.ColumnSet++; // the render takes it modulo the sets this width has
                break;
            case (TopKey.Enter, _) or (TopKey.Right, _) when state.Drilled is null:
                state.Drilled = state.Selected;
                state.DrillOffset = 0;
                break;
            case (TopKey.Escape, _) or (TopKey.Left, _) or (TopKey.Backspace, _):
                state.Drilled = null;
                break;
        }
    }

    /// <summary>Reads keys from stdin until quit (or stdin closes), handing each to <paramref name="screen"/>; runs on its own thread.</summary>
    public static void ReadLoop(TopScreen screen, Action quit)
    {
        var buffer = new byte[64];
        while (true)
        {
            var read = Interop.Read(0, buffer, buffer.Length);
            if (read == 0 || (read < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != 4))
            {
                return; // end of input or an error other than EINTR: the view goes on without keys
            }

            foreach (var (key, ch) in Decode(buffer.AsSpan(0, (int)Math.Max(read, 0))))
            {
                if (!screen.Key(key, ch))
                {
                    quit();
                    return;
                }
            }
        }
    }

    private static void MoveSort(TopState state, ViewFrame? frame, int step)
    {
        var ids = new List<string> { TopState.NameColumn };
        ids.AddRange((frame is null ? ViewColumns.Screen : TopLayout.Present(frame)).Select(c => c.Id));

        var at = ids.IndexOf(state.SortColumn);
        state.SortColumn = ids[((at < 0 ? 0 : at) + step + ids.Count) % ids.Count];
    }

    /// <summary>Moves the selection (the list's window follows it at the next render), or in a drill-down scrolls it.</summary>
    private static void Move(TopState state, ViewFrame? frame, int step)
    {
        if (state.Drilled is not null)
        {
            state.DrillOffset = (int)Math.Clamp((long)state.DrillOffset + step, 0, int.MaxValue / 2); // the render clamps the end
            return;
        }

        if (frame is null)
        {
            return;
        }

        var rows = state.Rows(frame);
        var at = rows.FindIndex(r => r.Name == state.Selected);
        if (rows.Count > 0)
        {
            state.Selected = rows[(int)Math.Clamp((long)at + step, 0, rows.Count - 1)].Name;
        }
    }
}
