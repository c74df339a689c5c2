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
}

/// <summary>The keys of <c>vmprobe top</c>: decoding the bytes a terminal sends, and what each does to the <see cref="TopState"/>.</summary>
internal static class TopKeys
{
    /// <summary>The keys in one read: arrows arrive as ESC [ A..D (or ESC O A..D) in one piece; a lone ESC is Escape.</summary>
    public static List<(TopKey Key, char Char)> Decode(ReadOnlySpan<byte> bytes)
    {
        var keys = new List<(TopKey, char)>();
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            if (b == 0x1b && i + 2 < bytes.Length && (bytes[i + 1] == (byte)'[' || bytes[i + 1] == (byte)'O'))
            {
                TopKey? arrow = bytes[i + 2] switch
                {
                    (byte)'A' => TopKey.Up,
                    (byte)'B' => TopKey.Down,
                    (byte)'C' => TopKey.Right,
                    (byte)'D' => TopKey.Left,
                    _ => null,
                };
                i += 2;
                if (arrow is { } key)
                {
                    keys.Add((key, '\0'));
                }

                continue;
            }

            keys.Add(b switch
            {
                0x1b => (TopKey.Escape, '\0'),
                (byte)'\r' or (byte)'\n' => (TopKey.Enter, '\0'),
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
                MoveSelection(state, frame, -1);
                break;
            case (TopKey.Down, _) or (TopKey.Char, 'j'):
                MoveSelection(state, frame, 1);
                break;
            case (TopKey.Enter, _) or (TopKey.Right, _):
                state.Drilled ??= state.Selected;
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
        if (frame is not null)
        {
            ids.AddRange(TopRender.Layout(frame, frame.Vms, int.MaxValue / 2).Columns.Select(c => c.Id));
        }
        else
        {
            ids.AddRange(ViewColumns.Screen.Select(c => c.Id));
        }

        var at = ids.IndexOf(state.SortColumn);
        state.SortColumn = ids[((at < 0 ? 0 : at) + step + ids.Count) % ids.Count];
    }

    private static void MoveSelection(TopState state, ViewFrame? frame, int step)
    {
        if (frame is null || state.Drilled is not null)
        {
            return;
        }

        var rows = state.Rows(frame);
        var at = rows.FindIndex(r => r.Name == state.Selected);
        if (rows.Count > 0)
        {
            state.Selected = rows[Math.Clamp(at + step, 0, rows.Count - 1)].Name;
        }
    }
}
