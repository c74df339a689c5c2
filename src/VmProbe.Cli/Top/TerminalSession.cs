using VmProbe.Cli.Native;

namespace VmProbe.Cli.Top;

/// <summary>
/// The terminal as <c>vmprobe top</c> uses it: keys one at a time without echo (termios; ISIG stays on, so Ctrl+C is
/// SIGINT and ends the view through the runner's stop path), the alternate screen and a hidden cursor. <see cref="Restore"/>
/// puts back the saved termios, the cursor and the main screen; it runs once, on q, Ctrl+C, SIGTERM or any exit.
/// </summary>
internal sealed class TerminalSession : IDisposable
{
    private const string Enter = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J";
    private const string Leave = "\x1b[?25h\x1b[?1049l";

    private readonly TextWriter _out;
    private readonly byte[]? _saved;
    private int _restored;

    private TerminalSession(TextWriter output, bool escapes, bool colour, byte[]? saved)
    {
        _out = output;
        Escapes = escapes;
        Colour = colour;
        _saved = saved;
    }

    /// <summary>Cursor addressing and the alternate screen: stdout is a terminal and TERM is set and not dumb.</summary>
    public bool Escapes { get; }

    /// <summary>Reverse video for the header and the selected row: <see cref="Escapes"/> and NO_COLOR unset.</summary>
    public bool Colour { get; }

    /// <summary>Keys are read: stdin is a terminal whose mode could be set.</summary>
    public bool Keys => _saved is not null;

    /// <summary>Sets the terminal up for the view when stdout (and for keys stdin) is a terminal; plain output otherwise.</summary>
    public static TerminalSession Open(TextWriter output)
    {
        var term = Environment.GetEnvironmentVariable("TERM");
        var escapes = Interop.IsATty(1) == 1 && !string.IsNullOrEmpty(term) && term != "dumb";
        var colour = escapes && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        byte[]? saved = null;
        if (escapes && Interop.IsATty(0) == 1)
        {
            var termios = new byte[Interop.TermiosBytes + 4];
            if (Interop.TcGetAttr(0, termios) == 0)
            {
                var raw = (byte[])termios.Clone();
                Clear(raw, Interop.TermiosLflagOffset, Interop.Icanon | Interop.Echo);
                Clear(raw, Interop.TermiosIflagOffset, Interop.Icrnl | Interop.Ixon);
                raw[Interop.TermiosCcOffset + Interop.Vmin] = 1;
                raw[Interop.TermiosCcOffset + Interop.Vtime] = 0;
                if (Interop.TcSetAttr(0, Interop.TcsaNow, raw) == 0)
                {
                    saved = termios;
                }
            }
        }

        var session = new TerminalSession(output, escapes, colour, saved);
        if (escapes)
        {
            session.Write(Enter);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => session.Restore();
        }

        return session;
    }

    /// <summary>The terminal's rows and columns; 24x80 when it cannot tell.</summary>
    public static (int Rows, int Columns) Size()
    {
        var size = new ushort[4];
        return Interop.IoctlWinSize(1, Interop.TiocGWinSz, size) == 0 && size[0] > 0 && size[1] > 0 ? (size[0], size[1]) : (24, 80);
    }

    public void Write(string text)
    {
        _out.Write(text);
        _out.Flush();
    }

    /// <summary>Puts the terminal back as it was; safe to call from any thread, any number of times.</summary>
    public void Restore()
    {
        if (Interlocked.Exchange(ref _restored, 1) != 0)
        {
            return;
        }

        try
        {
            if (Escapes)
            {
                Write(Leave);
            }
        }
        catch (IOException)
        {
            // The terminal is gone (ssh dropped): nothing to restore on it.
        }

        if (_saved is not null)
        {
            _ = Interop.TcSetAttr(0, Interop.TcsaNow, _saved);
        }
    }

    public void Dispose() => Restore();

    private static void Clear(byte[] termios, int offset, uint flags)
    {
        var value = BitConverter.ToUInt32(termios, offset) & ~flags;
        BitConverter.GetBytes(value).CopyTo(termios, offset);
    }
}
