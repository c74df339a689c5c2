using VmProbe.Cli.Top;
using VmProbe.Views;
using Xunit;

namespace VmProbe.Tests.Cli.Top;

/// <summary>
/// Issue 15 review: the NAME column keeps room for real names (OpenStack's instance-0000001a) on narrow terminals, holding
/// other columns back into the Tab sets instead, and pads and cuts double-width (CJK, emoji) names by terminal cells.
/// </summary>
public class TopNameWidthTests
{
    private static ViewFrame Frame(params VmViewRow[] vms) =>
        new(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000), 1.0, new[] { new ViewRate("user", 1.5), new ViewRate("steal", 0.25) }, vms);

    // Every source present: the columns need about 90 cells.
    private static VmViewRow Vm(string name, double cpu) => new(name, "u")
    {
        CpuCores = cpu, StealRatio = 0.1, GuestCores = 0, RssBytes = 128 << 20, ExitsPerSecond = 1200, TopExitReason = "EPT_VIOLATION",
        HaltPollSuccessRatio = 0.5, Ipc = 1.2, DiskReadBytesPerSecond = 1e6, NetReceiveBytesPerSecond = 2048, Watts = 12.5,
    };

    private static List<string> Render(ViewFrame frame, TopState state, int width) => TopRender.Lines(frame, state, width, 24, null, out _);

    [Theory]
    [InlineData(80)]
    [InlineData(50)]
    public void OpenStackInstanceNamesStayWholeAndTabShowsTheColumnsHeldBack(int width)
    {
        var frame = Frame(Vm("instance-0000001a", 1.0), Vm("instance-0000001b", 0.5), Vm("instance-0000002f", 0.25));
        var state = new TopState();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var sets = 0;
        do
        {
            var lines = Render(frame, state, width);
            Assert.All(lines, line => Assert.True(DisplayWidth.Of(line) <= width, line));
            foreach (var name in new[] { "instance-0000001a", "instance-0000001b", "instance-0000002f" })
            {
                Assert.Contains(lines, l => l.TrimStart('>', ' ').StartsWith(name + " ", StringComparison.Ordinal));
            }

            seen.UnionWith(ViewColumns.Screen.Select(c => c.Header).Where(h => lines[3].Contains(h, StringComparison.Ordinal)));
            TopKeys.Apply(state, frame, TopKeys.Decode("\t"u8).Single().Key, '\0');
            sets++;
        }
        while (state.ColumnSet != 0 && sets < 10);

        Assert.True(sets > 1, "the columns do not fit beside the names: some must be held back");
        Assert.Contains("WATTS", seen); // every column is reachable with Tab
        Assert.Contains("CPU", seen);
    }

    [Fact]
    public void ALongNameKeepsTwentyFourCellsAtEightyColumns()
    {
        var lines = Render(Frame(Vm("a-rather-long-domain-name-for-a-web-server", 0.5), Vm("db", 1)), new TopState(), 80);
        Assert.Contains(lines, l => l.StartsWith(" a-rather-long-domain-na", StringComparison.Ordinal) || l.StartsWith(">a-rather-long-domain-na", StringComparison.Ordinal));
    }

    [Fact]
    public void CjkAndEmojiNamesArePaddedAndCutByTheirWidthOnScreen()
    {
        var cjk = "数据库服务器生产环境主节点一号机"; // 16 characters, 32 cells: cut to the name column
        var emoji = "🚀launch-pad";
        var frame = Frame(Vm(cjk, 1.0), Vm(emoji, 0.5), Vm("db", 0.25));
        var state = new TopState();
        foreach (var width in new[] { 80, 50, 200 })
        {
            var lines = Render(frame, state, width);
            Assert.Equal(24, lines.Count);
            Assert.All(lines, line => Assert.True(DisplayWidth.Of(line) <= width, $"{DisplayWidth.Of(line)} > {width}: {line}"));
            var header = lines[3];
            var rows = lines.Skip(4).Take(3).ToList();
            Assert.Contains(rows, r => r.Contains("🚀launch-pad", StringComparison.Ordinal));
            Assert.Contains(rows, r => r.Contains("数据库服务器", StringComparison.Ordinal));
            Assert.All(rows, r => Assert.Equal(DisplayWidth.Of(header.TrimEnd()), DisplayWidth.Of(r.TrimEnd())));
        }
    }

    [Theory]
    [InlineData("web", 3)]
    [InlineData("数据", 4)]
    [InlineData("🚀", 2)]
    [InlineData("e\u0301", 1)] // combining acute
    [InlineData("a\u200Db", 2)] // zero-width joiner
    [InlineData("ｗｅｂ", 6)] // fullwidth Latin
    public void DisplayWidthCountsCells(string text, int cells) => Assert.Equal(cells, DisplayWidth.Of(text));

    [Fact]
    public void FitCutsAWideCharacterWholeAndKeepsTheWidth()
    {
        Assert.Equal("数 ~", DisplayWidth.Fit("数据库", 4)); // 据 would end past the cut: a space keeps the 4 cells
        Assert.Equal("数据~", DisplayWidth.Fit("数据库", 5));
        Assert.Equal("数据库", DisplayWidth.Fit("数据库", 6));
    }

    [Fact]
    public void AtEightyColumnsTheHostLineKeepsEveryMode()
    {
        var modes = new[] { "user", "system", "guest", "steal", "idle", "iowait", "nice", "irq", "softirq", "guest_nice" };
        var host = modes.Select((m, i) => new ViewRate(m, m is "irq" or "guest_nice" ? 0 : 0.01 + (i * 1.37))).ToList();
        var frame = new ViewFrame(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000), 1.0, host, new[] { Vm("web", 1) });
        var line = Render(frame, new TopState(), 80)[1];
        Assert.True(line.Length <= 80, line);
        foreach (var mode in new[] { "us", "sy", "gu", "st", "id", "wa", "ni", "hi", "si", "gn" })
        {
            Assert.Matches($@"\b{mode} [0-9.]+", line);
        }

        Assert.StartsWith("host CPU (cores): us ", Render(frame, new TopState(), 200)[1]); // the long form where it fits
    }
}
