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
    public void AWideTerminalShowsTheColumnsANarrowOneDrops()
    {
        var frame = Frame(Vm("web", 0.5, 1200, "EPT_VIOLATION"));
        var narrow = string.Join('\n', Render(frame, new TopState(), width: 60));
        var wide = string.Join('\n', Render(frame, new TopState(), width: 200));
        Assert.Contains("EPT_VIOLAT", wide);
        Assert.Contains("NET/s", wide);
        Assert.DoesNotContain("NET/s", narrow);
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
}
