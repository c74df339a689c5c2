using VmProbe.Cli.Top;
using VmProbe.Views;
using Xunit;

namespace VmProbe.Tests.Cli.Top;

/// <summary>Issue 15: the screen of <c>vmprobe top</c> as lines: fits 80x24 and wide terminals, sorts, filters, drills.</summary>
public class TopRenderTests
{
    private static ViewFrame Frame(params VmViewRow[] vms) =>
        new(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000), 1.0,
            new[] { new ViewRate("user", 1.5), new ViewRate("steal", 0.25), new ViewRate("guest", 1.0), new ViewRate("idle", 0.2) }, vms);

    private static VmViewRow Vm(string name, double cpu, double? exits = null, string? reason = null) => new(name, "u")
    {
        CpuCores = cpu,
        StealRatio = 0.1,
        GuestCores = 0,
        RssBytes = 128 << 20,
        ExitsPerSecond = exits,
        TopExitReason = reason,
        Vcpus = new[] { new VcpuViewRow("0", cpu, 0.1, exits), new VcpuViewRow("1", 0, 0, null) },
        ExitReasons = reason is null ? Array.Empty<ViewRate>() : new[] { new ViewRate(reason, exits) },
        Events = new[] { new ViewRate("task_clock", 1e9) },
    };

    private static List<string> Render(ViewFrame frame, TopState state, int width = 80, int height = 24) =>
        TopRender.Lines(frame, state, width, height, null, out _);

    [Fact]
    public void EightyByTwentyFourHoldsTheHostLineTheHeaderAndEveryRowWithinTheWidth()
    {
        var frame = Frame(Vm("a-rather-long-domain-name-for-a-web-server", 0.5, 1200, "EPT_VIOLATION"), Vm("db", 1.02, 30, "HLT"));
        var lines = Render(frame, new TopState());
        Assert.Equal(24, lines.Count);
        Assert.All(lines, line => Assert.True(line.Length <= 80, line));
        Assert.Contains("st 0.25", lines[1]);
        Assert.Contains("gu 1.00", lines[1]);
        Assert.Contains(lines, l => l.Contains(" CPU", StringComparison.Ordinal) && l.Contains("STEAL%", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.TrimStart('>', ' ').StartsWith("db ", StringComparison.Ordinal) && l.Contains("1.02", StringComparison.Ordinal));
        Assert.EndsWith(TopRender.Help[..20], lines[^1][..20]);
    }

    [Fact]
    public void ControlCharactersInAVmNameNeverReachTheTerminal()
    {
        var frame = Frame(Vm("evil\u001b[2J\nname", 0.5, 10, "HLT"), Vm("db", 0.1, 1, "HLT"));
        var lines = Render(frame, new TopState());
        Assert.DoesNotContain(lines, l => l.Any(char.IsControl));
        Assert.Contains(lines, l => l.Contains("evil?[2J?name", StringComparison.Ordinal));
    }

    [Fact]
    public void AtEightyColumnsHeldBackColumnsAreNamedAndTabShowsThem()
    {
        // A KVM host with every source: the columns need 90 characters.
        var frame = Frame(Vm("web", 0.5, 1200, "EPT_VIOLATION") with
        {
            HaltPollSuccessRatio = 0.5, Ipc = 1.2, DiskReadBytesPerSecond = 1e6, NetReceiveBytesPerSecond = 2048, Watts = 12.5,
        });
        var state = new TopState();
        var lines = Render(frame, state);
        Assert.Equal(24, lines.Count);
        Assert.All(lines, line => Assert.True(line.Length <= 80, line));
        Assert.Contains("HPOLL%", lines[3]);
        Assert.Contains("DISK/s", lines[3]);
        Assert.DoesNotContain("NET/s", lines[3]);
        Assert.DoesNotContain("WATTS", lines[3]);
        Assert.Contains("+2 cols (tab: set 1/2): NET/s WATTS", lines[2]);

        TopKeys.Apply(state, frame, TopKeys.Decode("\t"u8).Single().Key, '\0');
        lines = Render(frame, state);
        Assert.All(lines, line => Assert.True(line.Length <= 80, line));
        Assert.Matches(@"^ NAME +  NET/s  WATTS$", lines[3].TrimEnd());
        Assert.Matches(@"^>web +2\.0K  12\.50$", lines[4].TrimEnd());
        Assert.StartsWith("sorted by CPU   +9 cols (tab: set 2/2): CPU STEAL%", lines[2]); // CPU is the sort column
        TopKeys.Apply(state, frame, TopKey.Char, 'w');
        Assert.Contains("CPU", Render(frame, state)[3]);

        // Sorting by a column that is held back says so.
        state.SortColumn = TopState.NameColumn;
        TopKeys.Apply(state, frame, TopKey.Char, '<');
        Assert.Equal("watts", state.SortColumn);
        Assert.StartsWith("sorted by WATTS", Render(frame, state)[2]);

        var wide = Render(frame, new TopState(), width: 200);
        Assert.Matches(@"CPU +STEAL% +GUEST +EXITS/s +TOPEXIT +HPOLL% +IPC +RSS +DISK/s +NET/s +WATTS", wide[3]);
        Assert.Equal(string.Empty, wide[2]);
    }

    [Fact]
    public void ColumnsWithoutASourceAreLeftOut()
    {
        var text = string.Join('\n', Render(Frame(Vm("web", 0.5)), new TopState(), width: 200));
        Assert.DoesNotContain("EXITS/s", text);
        Assert.DoesNotContain("IPC", text);
        Assert.Contains("STEAL%", text);
    }

    [Fact]
    public void RowsSortByTheChosenColumnAndTheFilterKeepsMatchingNames()
    {
        var frame = Frame(Vm("alpha", 0.1), Vm("beta", 0.9), Vm("gamma", 0.5));
        var state = new TopState();
        Assert.Equal(new[] { "beta", "gamma", "alpha" }, state.Rows(frame).Select(r => r.Name));
        state.Reverse = true;
        Assert.Equal(new[] { "alpha", "gamma", "beta" }, state.Rows(frame).Select(r => r.Name));
        state.Reverse = false;
        TopKeys.Apply(state, frame, TopKey.Char, '<'); // from CPU to NAME
        Assert.Equal(TopState.NameColumn, state.SortColumn);
        Assert.Equal(new[] { "alpha", "beta", "gamma" }, state.Rows(frame).Select(r => r.Name));

        foreach (var (key, ch) in TopKeys.Decode("/MM\u007fA\r"u8))
        {
            TopKeys.Apply(state, frame, key, ch);
        }

        Assert.Equal("MA", state.Filter);
        var lines = Render(frame, state);
        Assert.Contains(lines, l => l.Contains("gamma", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("beta", StringComparison.Ordinal));
        Assert.Contains("filter 'MA' (1 of 3)", lines[0]);
    }

    [Fact]
    public void EnterDrillsIntoTheSelectedVmAndEscapeGoesBack()
    {
        var frame = Frame(Vm("alpha", 0.1, 10, "HLT"), Vm("beta", 0.9, 500, "EPT_VIOLATION"));
        var state = new TopState();
        state.Rows(frame);
        foreach (var (key, ch) in TopKeys.Decode("\x1b[B\r"u8)) // down, enter
        {
            TopKeys.Apply(state, frame, key, ch);
        }

        Assert.Equal("alpha", state.Drilled);
        var lines = Render(frame, state);
        Assert.StartsWith("vmprobe top > alpha", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("VCPU", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("HLT ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("task_clock", StringComparison.Ordinal) && l.TrimEnd().EndsWith("1.0G", StringComparison.Ordinal));
        TopKeys.Apply(state, frame, TopKeys.Decode("\x1b"u8).Single().Key, '\0');
        Assert.Null(state.Drilled);
        TopKeys.Apply(state, frame, TopKey.Char, 'q');
        Assert.True(state.Quit);
    }

    [Fact]
    public void AVmThatGoesAwayWhileDrilledIsSaidToBeGone()
    {
        var state = new TopState { Drilled = "old" };
        Assert.Contains(Render(Frame(Vm("new", 1)), state), l => l.Contains("old is gone", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--log --csv -d 0.5 -g web", null)]
    [InlineData("--csv", "--csv needs --log")]
    [InlineData("-d 0", "-d: '0' is not a number of seconds")]
    [InlineData("-d", "-d needs a value")]
    [InlineData("--frobnicate", "unknown argument '--frobnicate'")]
    public void OptionsAreCheckedWithAReasonNamingTheOption(string line, string? error)
    {
        var options = TopOptions.Parse(line.Split(' '), out var problem);
        if (error is null)
        {
            Assert.NotNull(options);
            Assert.Equal(500, options!.DelayMs);
            Assert.Equal("web", options.Filter);
            Assert.True(options.Log && options.Csv);
        }
        else
        {
            Assert.Null(options);
            Assert.Contains(error, problem);
        }
    }

    [Fact]
    public void LogLinesHaveOneHeaderATimestampPerLineAndNoBanner()
    {
        var text = new StringWriter();
        var writer = new ViewLogWriter(text, csv: false, name => name != "hidden");
        writer.Show(Frame(Vm("web", 0.5)) with { IntervalSeconds = null }); // first cycle: no rates, nothing written
        writer.Show(Frame(Vm("web", 0.5), Vm("two words", 0.25), Vm("hidden", 1)));
        writer.Show(Frame(Vm("web", 0.75)));
        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.Equal(string.Join(' ', ViewLogWriter.Header), lines[0]);
        Assert.StartsWith("2027-01-15T08:00:00.000Z web 0.5 0.1 0 - - - - 134217728 ", lines[1]);
        Assert.Contains(" \"two words\" 0.25 ", lines[2]);
        Assert.Equal(lines[0].Split(' ').Length, lines[3].Split(' ').Length);

        var csv = new StringWriter();
        var csvWriter = new ViewLogWriter(csv, csv: true, _ => true);
        csvWriter.Show(Frame(Vm("a,b", 0.5)));
        var csvLines = csv.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(string.Join(',', ViewLogWriter.Header), csvLines[0]);
        Assert.StartsWith("2027-01-15T08:00:00.000Z,\"a,b\",0.5,0.1,", csvLines[1]);
    }

    private static ViewFrame Numbered(int count) =>
        Frame(Enumerable.Range(0, count).Select(i => Vm($"vm{i:000}", 0.5)).ToArray());

    private static void Press(TopState state, ViewFrame frame, string keys)
    {
        foreach (var (key, ch) in TopKeys.Decode(System.Text.Encoding.ASCII.GetBytes(keys)))
        {
            TopKeys.Apply(state, frame, key, ch);
        }
    }

    [Fact]
    public void MoreVmsThanRowsScrollWithTheSelectionAndShowTheirPosition()
    {
        var frame = Numbered(200);
        var state = new TopState { SortColumn = TopState.NameColumn };
        var lines = TopRender.Lines(frame, state, 80, 24, null, out var highlight);
        Assert.Equal(24, lines.Count);
        Assert.Equal("rows 1-19 of 200", lines[2]);
        Assert.StartsWith(">vm000", lines[4]);
        Assert.StartsWith(" vm018", lines[22]);

        Press(state, frame, string.Concat(Enumerable.Repeat("\x1b[B", 25))); // down 25 times
        lines = TopRender.Lines(frame, state, 80, 24, null, out highlight);
        Assert.Equal("rows 8-26 of 200", lines[2]);
        Assert.StartsWith(">vm025", lines[highlight.Selected]);
        Assert.Equal(22, highlight.Selected); // the last row: the window moved just enough

        Press(state, frame, "\x1b[6~"); // PgDn: a page further
        lines = TopRender.Lines(frame, state, 80, 24, null, out highlight);
        Assert.Equal("vm044", state.Selected);
        Assert.Equal("rows 27-45 of 200", lines[2]);

        Press(state, frame, "\x1b[4~"); // End
        lines = TopRender.Lines(frame, state, 80, 24, null, out highlight);
        Assert.Equal("rows 182-200 of 200", lines[2]);
        Assert.StartsWith(">vm199", lines[22]);
        Assert.Equal(TopRender.Help, lines[23]);

        Press(state, frame, "kk\x1b[5~"); // up twice, PgUp
        TopRender.Lines(frame, state, 80, 24, null, out _);
        Assert.Equal("vm178", state.Selected);

        Press(state, frame, "\x1bOH\r"); // Home, Enter: the drill-down is of the row selected after scrolling
        Assert.Equal("vm000", state.Drilled);
        Assert.StartsWith("vmprobe top > vm000", TopRender.Lines(frame, state, 80, 24, null, out _)[0]);
    }

    [Fact]
    public void AListThatShrinksUnderAScrolledWindowLeavesNoStaleRows()
    {
        var state = new TopState { SortColumn = TopState.NameColumn };
        var big = Numbered(200);
        Press(state, big, "\x1b[F");
        TopRender.Lines(big, state, 80, 24, null, out _);
        Assert.Equal(181, state.Offset);

        var lines = TopRender.Lines(Numbered(5), state, 80, 24, null, out var highlight);
        Assert.Equal(24, lines.Count);
        Assert.Equal(0, state.Offset);
        Assert.Equal(string.Empty, lines[2]); // every row fits: no position
        Assert.Equal(new[] { ">vm000", " vm001", " vm002", " vm003", " vm004" }, lines.Skip(4).Take(5).Select(l => l[..6]));
        Assert.All(lines.Skip(9).Take(14), l => Assert.Equal(string.Empty, l));
        Assert.Equal(4, highlight.Selected); // vm199 is gone: the first row is selected
    }

    [Fact]
    public void ADrillDownLongerThanTheScreenScrolls()
    {
        var vcpus = Enumerable.Range(0, 40).Select(i => new VcpuViewRow(i.ToString(System.Globalization.CultureInfo.InvariantCulture), 0.5, 0.01, null)).ToArray();
        var frame = Frame(Vm("big", 20) with { Vcpus = vcpus });
        var state = new TopState();
        TopRender.Lines(frame, state, 80, 24, null, out _);
        Press(state, frame, "\r");
        var lines = TopRender.Lines(frame, state, 80, 24, null, out var highlight);
        Assert.Equal(24, lines.Count);
        Assert.Matches(@"^vmprobe top > big .* lines 1-22 of \d+$", lines[0]);
        Assert.StartsWith("VCPU", lines[highlight.Header]);

        Press(state, frame, "\x1b[F"); // End: the events are the last lines
        lines = TopRender.Lines(frame, state, 80, 24, null, out highlight);
        Assert.StartsWith("task_clock", lines[22]);
        Assert.Equal(-1, highlight.Header); // the VCPU header scrolled away
        Assert.Contains(lines, l => l.StartsWith("39 ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("0 ", StringComparison.Ordinal));

        Press(state, frame, "\x1b[1~\x1b"); // Home, then back to the list
        Assert.Null(state.Drilled);
    }

    [Fact]
    public void CursorKeysDecodeAsXtermTmuxAndRxvtSendThem()
    {
        var keys = TopKeys.Decode("\x1b[5~\x1b[6~\x1b[1~\x1b[4~\x1b[H\x1b[F\x1bOH\x1b[7~\x1b[8~\t\x1b[1;5A\x1b[15~x"u8).Select(k => k.Key);
        Assert.Equal(
            new[] { TopKey.PageUp, TopKey.PageDown, TopKey.Home, TopKey.End, TopKey.Home, TopKey.End, TopKey.Home, TopKey.Home, TopKey.End, TopKey.Tab, TopKey.Up, TopKey.Char },
            keys);
    }
}
