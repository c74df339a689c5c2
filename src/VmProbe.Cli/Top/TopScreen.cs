using System.Text;
using VmProbe.Views;

namespace VmProbe.Cli.Top;

/// <summary>
/// The screen of <c>vmprobe top</c>: shows each cycle's frame and redraws at once on a key. With escapes it redraws in
/// place (cursor home, each line then clear to end of line, clear below; the last line without a newline, so nothing
/// scrolls); without, it prints each frame as plain lines followed by a blank line.
/// </summary>
internal sealed class TopScreen : IViewConsumer
{
    private readonly object _lock = new();
    private readonly TerminalSession _terminal;
    private readonly TopState _state;
    private readonly Func<string?> _status;
    private ViewFrame? _frame;

    public TopScreen(TerminalSession terminal, TopState state, Func<string?> status)
    {
        _terminal = terminal;
        _state = state;
        _status = status;
    }

    public void Show(ViewFrame frame)
    {
        lock (_lock)
        {
            _frame = frame;
            Draw();
        }
    }

    /// <summary>Draws the current frame (before the first: a "collecting" line).</summary>
    public void Redraw()
    {
        lock (_lock)
        {
            Draw();
        }
    }

    /// <summary>Applies a key to the state and redraws; false when the key asks to quit.</summary>
    public bool Key(TopKey key, char ch)
    {
        lock (_lock)
        {
            TopKeys.Apply(_state, _frame, key, ch);
            if (_state.Quit)
            {
                return false;
            }

            Draw();
            return true;
        }
    }

    private void Draw()
    {
        var (rows, columns) = _terminal.Escapes ? TerminalSession.Size() : (int.MaxValue, 200);
        var lines = TopRender.Lines(_frame, _state, columns, _terminal.Escapes ? rows : 0, _terminal.Escapes ? _status() : null, out var highlight);
        var text = new StringBuilder();
        if (!_terminal.Escapes)
        {
            // Plain: no footer help (nobody can press a key), one frame after another.
            foreach (var line in lines.Take(lines.Count - 1))
            {
                text.Append(line.TrimEnd()).Append('\n');
            }

            _terminal.Write(text.Append('\n').ToString());
            return;
        }

        text.Append("\x1b[H");
        for (var i = 0; i < lines.Count; i++)
        {
            var reverse = _terminal.Colour && (i == highlight.Header || i == highlight.Selected);
            text.Append(reverse ? "\x1b[7m" : string.Empty).Append(lines[i]).Append(reverse ? "\x1b[0m" : string.Empty).Append("\x1b[K");
            if (i < lines.Count - 1)
            {
                text.Append("\r\n");
            }
        }

        _terminal.Write(text.Append("\x1b[J").ToString());
    }
}
