using VmProbe.Tests.Procfs;
using VmProbe.Views;
using Xunit;
using static VmProbe.Tests.Views.ViewFixtures;

namespace VmProbe.Tests.Views;

/// <summary>Issue 15: <c>csvdir</c>, one CSV per VM in the tracker's layout, appended, rotated, never re-headed.</summary>
public sealed class CsvDirectoryWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vmprobe-csvdir-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Feeds cycles 1 s apart; each VM's CPU counter grows by <c>cores</c> per cycle.</summary>
    private static void Feed(ViewSink sink, double start, int cycles, Action<MetricSet, int> add)
    {
        for (var i = 0; i < cycles; i++)
        {
            var set = At(start + i);
            add(set, i);
            sink.Export(set);
        }
    }

    private ViewSink Sink(out CsvDirectoryWriter writer, DomainProcfsSourceTests.ListLog? log = null, long maxBytes = CsvDirectoryWriter.DefaultMaxBytes, int keep = 2)
    {
        writer = new CsvDirectoryWriter(Path.Combine(_dir, "csv"), log ?? new DomainProcfsSourceTests.ListLog(), maxBytes, keep);
        return new ViewSink(new IViewConsumer[] { writer }, "csv");
    }

    [Fact]
    public void EachVmGetsItsFileWithOneHeaderAndOneLinePerCycleAfterTheFirst()
    {
        var sink = Sink(out var writer);
        Feed(sink, 1000, 4, (set, i) =>
        {
            Vm(set, "web", run: 0.5 * i, wait: 0, vcpuRun: 0.5 * i, vcpuWait: 0);
            Vm(set, "db", run: 1.0 * i, wait: 0, vcpuRun: 1.0 * i, vcpuWait: 0);
        });

        var web = File.ReadAllLines(Path.Combine(writer.Directory, "web.csv"));
        Assert.Equal(4, web.Length); // header + cycles 2..4 (the first has no rates)
        Assert.StartsWith("timestamp,cpu_cores,steal_ratio,", web[0]);
        Assert.DoesNotContain("watts", web[0]); // power is not measured here
        Assert.Equal(1, web.Count(l => l.StartsWith("timestamp", StringComparison.Ordinal)));
        var cpuAt = Array.IndexOf(web[0].Split(','), "cpu_cores");
        Assert.All(web.Skip(1), line => Assert.Equal("0.5", line.Split(',')[cpuAt]));
        Assert.StartsWith("1970-01-01T00:16:41.000Z,", web[1]);
        var db = File.ReadAllLines(Path.Combine(writer.Directory, "db.csv"));
        Assert.All(db.Skip(1), line => Assert.Equal("1", line.Split(',')[cpuAt]));
    }

    [Fact]
    public void AVmThatComesBackAppendsAndANewWriterAppendsToTheSameHeader()
    {
        var sink = Sink(out var writer);
        Feed(sink, 0, 3, (set, i) => Vm(set, "web", i, 0, i, 0));
        Feed(sink, 3, 2, (_, _) => { }); // gone for two cycles
        Feed(sink, 5, 3, (set, i) => Vm(set, "web", 10 + i, 0, 10 + i, 0));

        // A restarted probe (a new writer) finds the file and its header and appends.
        var again = Sink(out _);
        Feed(again, 8, 3, (set, i) => Vm(set, "web", 20 + i, 0, 20 + i, 0));
        var lines = File.ReadAllLines(Path.Combine(writer.Directory, "web.csv"));
        // Header, 2 lines, 2 after the return (its first cycle back has no rates: no row), 2 from the new writer.
        Assert.Equal(1 + 2 + 2 + 2, lines.Length);
        var cpuAt = Array.IndexOf(lines[0].Split(','), "cpu_cores");
        Assert.All(lines.Skip(1), line => Assert.Equal("1", line.Split(',')[cpuAt]));
        Assert.Single(lines, l => l.StartsWith("timestamp", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(writer.Directory, "web.csv.1")));
    }

    [Fact]
    public void TwoRunsOnAHostWithAMeterAppendToOneFileWithOneHeader()
    {
        // Each run: the host's meter is read from the first cycle; the VM's energy share starts a cycle later.
        for (var run = 0; run < 2; run++)
        {
            var sink = Sink(out _);
            Feed(sink, 100 * (run + 1), 4, (set, i) =>
            {
                set.Family(VmProbe.Power.PowerFamilies.HostEnergy).Add(1000 + (10 * i), "package-0", "powercap");
                Vm(set, "web", i, 0, i, 0);
                if (i >= 2)
                {
                    Energy(set, "web", 5 * i);
                }
            });
        }

        var path = Path.Combine(_dir, "csv", "web.csv");
        var lines = File.ReadAllLines(path);
        Assert.False(File.Exists(path + ".1"), "the file was rotated: its header changed between cycles or runs");
        Assert.Equal(1, lines.Count(l => l.StartsWith("timestamp", StringComparison.Ordinal)));
        Assert.Contains("watts", lines[0].Split(','));
        Assert.Equal(7, lines.Length); // one header, three rows per run
    }

    [Fact]
    public void AVmThatLibvirtNoLongerRunsGetsNoRowsOfZeros()
    {
        // "gone" was destroyed at cycle 2: libvirt lists it shut off (or not at all) while another source still reports
        // its last, frozen counters; "web" runs on.
        var sink = Sink(out var writer);
        Feed(sink, 0, 5, (set, i) =>
        {
            Vm(set, "web", i, 0, i, 0);
            Vm(set, "gone", Math.Min(i, 2), 0, Math.Min(i, 2), 0);
            set.Family(VmProbe.Libvirt.LibvirtFamilies.Info).Add(1, "web", Uuid, "running");
            if (i < 2)
            {
                set.Family(VmProbe.Libvirt.LibvirtFamilies.Info).Add(1, "gone", Uuid, "running");
            }
            else if (i == 2)
            {
                set.Family(VmProbe.Libvirt.LibvirtFamilies.Info).Add(1, "gone", Uuid, "shutoff");
            }
        });

        Assert.Equal(1 + 4, File.ReadAllLines(Path.Combine(writer.Directory, "web.csv")).Length);
        var gone = File.ReadAllLines(Path.Combine(writer.Directory, "gone.csv"));
        Assert.Equal(1 + 1, gone.Length); // the second cycle only: its rate over the last interval it ran
        var cpuAt = Array.IndexOf(gone[0].Split(','), "cpu_cores");
        Assert.Equal("1", gone[1].Split(',')[cpuAt]);
    }

    [Fact]
    public void OnAHostThatMeasuresPower_AVmWithoutAnEnergyShareYetKeepsTheWattsColumn()
    {
        var sink = Sink(out var writer);
        Feed(sink, 0, 3, (set, i) =>
        {
            Vm(set, "web", i, 0, i, 0);
            Energy(set, "web", 10 * i);
        });

        // "db" comes back: the power source gives it no energy series in its first cycles (no share yet), then does.
        Feed(sink, 3, 4, (set, i) =>
        {
            Vm(set, "web", 3 + i, 0, 3 + i, 0);
            Energy(set, "web", 30 + (10 * i));
            Vm(set, "db", i, 0, i, 0);
            if (i >= 2)
            {
                Energy(set, "db", 5 * i);
            }
        });

        var db = File.ReadAllLines(Path.Combine(writer.Directory, "db.csv"));
        Assert.Contains(",watts", db[0]);
        Assert.Single(db, l => l.StartsWith("timestamp", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(writer.Directory, "db.csv.1")), "the energy column coming and going rotated the file");
        Assert.False(File.Exists(Path.Combine(writer.Directory, "web.csv.1")));
        Assert.Equal("5", db[^1].Split(',')[Array.IndexOf(db[0].Split(','), "watts")]);
    }

    [Fact]
    public void AChangedColumnSetStartsANewFileAndKeepsTheOldOneWhole()
    {
        var sink = Sink(out var writer);
        Feed(sink, 0, 3, (set, i) => Vm(set, "web", i, 0, i, 0));
        var path = Path.Combine(writer.Directory, "web.csv");
        var before = File.ReadAllText(path);

        // Power becomes measured and an event is added: new columns.
        Feed(sink, 3, 3, (set, i) =>
        {
            Vm(set, "web", 3 + i, 0, 3 + i, 0);
            Energy(set, "web", 10 * i);
            Event(set, "web", "task_clock", 1e9 * i);
        });

        Assert.Equal(before, File.ReadAllText(path + ".1"));
        var lines = File.ReadAllLines(path);
        Assert.EndsWith(",watts,event_task_clock_per_second", lines[0]);
        Assert.Equal(4, lines.Length); // header + 3 cycles; the first has the new columns but no rate yet
        Assert.Equal(string.Empty, lines[1].Split(',')[^2]);
        Assert.Equal("10", lines[3].Split(',')[^2]);
        Assert.Equal("1000000000", lines[3].Split(',')[^1]);
    }

    [Fact]
    public void FilesAreBoundedBySizeWithAFixedNumberKept()
    {
        var sink = Sink(out var writer, maxBytes: 600, keep: 2);
        Feed(sink, 0, 60, (set, i) => Vm(set, "web", i, 0, i, 0));
        var files = Directory.GetFiles(writer.Directory).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToList();
        Assert.Equal(new[] { "web.csv", "web.csv.1", "web.csv.2" }, files);
        foreach (var file in files)
        {
            var lines = File.ReadAllLines(Path.Combine(writer.Directory, file!));
            Assert.True(new FileInfo(Path.Combine(writer.Directory, file!)).Length <= 600, file);
            Assert.StartsWith("timestamp,", lines[0]);
            Assert.Single(lines, l => l.StartsWith("timestamp", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("web-01", "web-01")]
    [InlineData("../../etc/passwd", "%2E.%2F..%2Fetc%2Fpasswd")]
    [InlineData("..", "%2E.")]
    [InlineData(".hidden", "%2Ehidden")]
    [InlineData("a b\nc", "a%20b%0Ac")]
    [InlineData("100%", "100%25")]
    [InlineData("", "%")]
    [InlineData("vm.example.com", "vm.example.com")]
    [InlineData("größe", "gr%C3%B6%C3%9Fe")]
    public void FileNamesAreSafeAndDistinctForAnyDomainName(string domain, string stem) =>
        Assert.Equal(stem, CsvFileNames.Stem(domain));

    [Fact]
    public void LongNamesAreCutWithAHashSoTheyStayDistinct()
    {
        var a = CsvFileNames.FileName(new string('x', 300) + "a");
        var b = CsvFileNames.FileName(new string('x', 300) + "b");
        Assert.NotEqual(a, b);
        Assert.True(a.Length <= CsvFileNames.MaxStemLength + 4, a);
        var escaped = CsvFileNames.Stem(new string('/', 300));
        Assert.Matches("^(%2F)+~[0-9a-f]{16}$", escaped);
    }

    [Fact]
    public void OddNamesAreWrittenInsideTheDirectory()
    {
        var sink = Sink(out var writer);
        string[] names = { "../escape", "..", "with/slash", "tab\there" };
        Feed(sink, 0, 2, (set, i) =>
        {
            foreach (var name in names)
            {
                Vm(set, name, i, 0, i, 0);
            }
        });

        var files = Directory.GetFiles(writer.Directory).Select(Path.GetFileName).ToList();
        Assert.Equal(names.Length, files.Count);
        Assert.False(File.Exists(Path.Combine(_dir, "escape.csv")));
        Assert.Contains("with%2Fslash.csv", files);
    }

    [Fact]
    public void AnUnwritableDirectoryIsLoggedOnceNotThrownAndRecoveryIsLogged()
    {
        var log = new DomainProcfsSourceTests.ListLog();
        var blocker = Path.Combine(_dir, "csv");
        File.WriteAllText(blocker, "a file where the directory should be");
        var sink = Sink(out _, log);
        Feed(sink, 0, 4, (set, i) => Vm(set, "web", i, 0, i, 0));
        var warning = Assert.Single(log.Lines, l => l.StartsWith("Warning:", StringComparison.Ordinal));
        Assert.Contains("csvdir", warning);
        Assert.Contains(blocker, warning);

        File.Delete(blocker);
        Feed(sink, 4, 2, (set, i) => Vm(set, "web", 4 + i, 0, 4 + i, 0));
        Assert.Contains(log.Lines, l => l.Contains("writing again", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(blocker, "web.csv")));
    }
}
