using System.Diagnostics;
using System.Globalization;
using VmProbe.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace VmProbe.Tests.Cli.Top;

/// <summary>
/// Issue 15, as a user sees it: the real <c>vmprobe top</c> in a tmux pane (its own tmux server, 80x24) against real
/// QEMU/TCG domains under libvirtd. Keys go in with send-keys; what the screen shows comes back with capture-pane.
/// </summary>
[Collection(LibvirtdCollection.Name)]
public sealed class TopTmuxTests : IDisposable
{
    private readonly LibvirtdHost _host;
    private readonly ITestOutputHelper _output;
    private readonly string _dir = Directory.CreateTempSubdirectory("vmprobe-top-tmux-").FullName;
    private readonly string _socket = "vmprobe-test-top-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string? _tmux = Requirements.FindCommand("tmux");

    public TopTmuxTests(LibvirtdHost host, ITestOutputHelper output)
    {
        _host = host;
        _output = output;
    }

    public void Dispose()
    {
        if (_tmux is not null)
        {
            Requirements.Run(_tmux, $"-L {_socket} kill-server");
        }

        Directory.Delete(_dir, recursive: true);
    }

    private void SkipUnlessReady()
    {
        Skip.If(_tmux is null, "tmux is not installed (scripts/install-packages.sh test installs it)");
        Skip.IfNot(_host.Available, _host.SkipReason);
        Skip.IfNot(Requirements.IsRoot, "vmprobe top reads the QEMU threads of libvirt's domains: needs root");
    }

    private static string Dotnet() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : Requirements.FindCommand("dotnet") ?? "dotnet";

    private string Config()
    {
        var path = Path.Combine(_dir, "top.yaml");
        File.WriteAllText(path, $"url: {LibvirtdHost.Uri}\ndiscovery: libvirt\nperfsoftware:\n  - task-clock\n");
        return path;
    }

    /// <summary>Starts top in a fresh 80x24 pane; after it exits the pane prints its status and the terminal's mode.</summary>
    private void StartPane(string filter, string environment = "", int width = 80, int height = 24)
    {
        var command = $"{environment} TERM=xterm-256color '{Dotnet()}' '{RepoPaths.VmprobeDll}' top --config '{Config()}' -g '{filter}'; "
            + "echo VMPROBE-EXIT=$?; echo TTY-MODES: $(stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo); sleep 120";
        var (code, _, error) = Requirements.Run(_tmux!, $"-L {_socket} -f /dev/null new-session -d -s top -x {width} -y {height} \"{command.Replace("\"", "\\\"", StringComparison.Ordinal)}\"");
        Assert.True(code == 0, error);
    }

    private string Capture() => Requirements.Run(_tmux!, $"-L {_socket} capture-pane -p -t top").Stdout;

    /// <summary>The pane with its attributes as escape sequences (reverse video is ESC [7m).</summary>
    private string CaptureWithAttributes() => Requirements.Run(_tmux!, $"-L {_socket} capture-pane -e -p -t top").Stdout;

    private string Display(string format) => Requirements.Run(_tmux!, $"-L {_socket} display-message -p -t top \"{format}\"").Stdout.Trim();

    private void Keys(params string[] keys) => Requirements.Run(_tmux!, $"-L {_socket} send-keys -t top {string.Join(' ', keys)}");

    /// <summary>Captures until <paramref name="done"/> holds and returns that screen; fails with the last screen at the timeout.</summary>
    private string WaitFor(Func<string, bool> done, int timeoutMs = 40_000, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(done))] string what = "")
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        string screen;
        do
        {
            Thread.Sleep(300);
            screen = Capture();
        }
        while (!done(screen) && Environment.TickCount64 < deadline);

        _output.WriteLine(screen);
        Assert.True(done(screen), $"timed out after {timeoutMs} ms waiting for {what}; the screen:\n{screen}");
        return screen;
    }

    /// <summary>The CPU and STEAL% cells of <paramref name="name"/>'s row (the columns after the name).</summary>
    private static (double Cpu, double Steal)? Row(string screen, string name)
    {
        var line = screen.Split('\n').FirstOrDefault(l => l.Length > 1 && l[1..].StartsWith(name + " ", StringComparison.Ordinal));
        var cells = line?[(1 + name.Length)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return cells is { Length: >= 2 }
            && double.TryParse(cells[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var cpu)
            && double.TryParse(cells[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var steal)
            ? (cpu, steal / 100) : null;
    }

    /// <summary>The screen's lines that start (after the selection marker) with one of <paramref name="names"/>, in screen order.</summary>
    private static List<string> Order(string screen, params string[] names) =>
        screen.Split('\n').Where(l => l.Length > 1).Select(l => l[1..].Split(' ')[0]).Where(names.Contains).ToList();

    [SkippableFact]
    public void TheScreenShowsTheVmsASpinningVmNearOneCoreSortsFiltersDrillsAndQuitsClean()
    {
        SkipUnlessReady();
        var token = Guid.NewGuid().ToString("N")[..8];
        using var spin = _host.StartDomain($"{LibvirtdHost.NamePrefix}{token}-spin", spinning: true, vcpus: 2);
        using var idle = _host.StartDomain($"{LibvirtdHost.NamePrefix}{token}-idle");
        StartPane(token);

        // A spinning vCPU is runnable all the time: run (CPU) plus wait over wall time (steal) is one core even on contended CPUs.
        double Runnable(string screen) => Row(screen, spin.Name) is { } r ? r.Cpu + r.Steal : 0;
        var screen = WaitFor(s => Row(s, idle.Name) is { } i && Runnable(s) is > 0.75 and < 1.3 && Row(s, spin.Name)!.Value.Cpu > i.Cpu);
        Assert.Matches(@"host CPU( \(cores\))?: us ", screen); // the compact form at 80 columns when every mode is there
        Assert.InRange(Runnable(screen), 0.75, 1.3);
        Assert.True(Row(screen, idle.Name)!.Value.Cpu < 0.3, $"the idle VM uses {Row(screen, idle.Name)!.Value.Cpu} cores");
        Assert.Equal("1", Display("#{alternate_on}"));
        Assert.All(screen.Split('\n'), line => Assert.True(line.Length <= 80));
        Assert.Contains("\x1b[7m", CaptureWithAttributes()); // the header and the selected row in reverse video

        // Sorting: by CPU (the default) the spinning VM comes first; by name ('<' moves the sort to NAME) the idle one;
        // reversed ('r'), the spinning one again.
        Assert.Equal(new[] { spin.Name, idle.Name }, Order(screen, spin.Name, idle.Name));
        Assert.Contains("v  CPU", screen);
        Keys("<");
        screen = WaitFor(s => s.Contains("vNAME", StringComparison.Ordinal) && Order(s, spin.Name, idle.Name).Count == 2);
        Assert.Equal(new[] { idle.Name, spin.Name }, Order(screen, spin.Name, idle.Name));
        Keys("r");
        screen = WaitFor(s => s.Contains("^NAME", StringComparison.Ordinal) && Order(s, spin.Name, idle.Name).Count == 2);
        Assert.Equal(new[] { spin.Name, idle.Name }, Order(screen, spin.Name, idle.Name));
        Keys("r", ">");
        WaitFor(s => s.Contains("v  CPU", StringComparison.Ordinal));

        // Filter by name (kvm_stat -g): only the spinning VM is left.
        Keys("/", "-spin", "Enter");
        screen = WaitFor(s => System.Text.RegularExpressions.Regex.IsMatch(s, $@"filter '{token}-spin' \(1 of \d+\)")); // "of" counts others' VMs too
        Assert.Contains(spin.Name, screen);
        Assert.DoesNotContain(idle.Name, screen);

        // Drill into it: a row per vCPU with its CPU and steal (vCPU 0 spins, vCPU 1 is an idle AP), exit reasons, events.
        Keys("Enter");
        var vcpuRow = new System.Text.RegularExpressions.Regex(@"^(?<v>[01]) +(?<cpu>\d+\.\d\d) +(?<steal>\d+(\.\d)?) ", System.Text.RegularExpressions.RegexOptions.Multiline);
        double Vcpu0(string s) => vcpuRow.Matches(s).FirstOrDefault(m => m.Groups["v"].Value == "0") is { } m
            ? double.Parse(m.Groups["cpu"].Value, CultureInfo.InvariantCulture) + (double.Parse(m.Groups["steal"].Value, CultureInfo.InvariantCulture) / 100) : 0;
        screen = WaitFor(s => vcpuRow.Matches(s).Count == 2 && Vcpu0(s) is > 0.75 and < 1.3 && s.Contains("task_clock", StringComparison.Ordinal));
        Assert.Contains($"vmprobe top > {spin.Name}", screen);
        Assert.Equal(new[] { "0", "1" }, vcpuRow.Matches(screen).Select(m => m.Groups["v"].Value));
        Assert.InRange(Vcpu0(screen), 0.75, 1.3);
        Assert.Contains("EXIT REASON", screen);
        Keys("Escape");
        screen = WaitFor(s => s.Contains("host CPU", StringComparison.Ordinal));
        Assert.DoesNotContain("VCPU", screen);

        Keys("q");
        screen = WaitFor(s => s.Contains("TTY-MODES: ", StringComparison.Ordinal), 15_000);
        AssertCleanTerminal(screen);
    }

    /// <summary>
    /// Three VMs in a 7-row pane: two rows fit. The list scrolls with the selection and says where it is; a filter
    /// that shrinks the list leaves no stale rows; a narrow pane names the columns it holds back and Tab shows them.
    /// </summary>
    [SkippableFact]
    public void ASmallPaneScrollsShrinksCleanAndCyclesColumnSets()
    {
        SkipUnlessReady();
        var token = Guid.NewGuid().ToString("N")[..8];
        using var a = _host.StartDomain($"{LibvirtdHost.NamePrefix}{token}-a");
        using var b = _host.StartDomain($"{LibvirtdHost.NamePrefix}{token}-b");
        using var c = _host.StartDomain($"{LibvirtdHost.NamePrefix}{token}-c");
        var names = new[] { a.Name, b.Name, c.Name };
        StartPane(token, height: 7);

        // Other people's domains may run on the shared libvirtd: the title's VM count and the filter's "of N" include
        // them, so the counts judged here are the rows that match this test's own token.
        var ownCount = new System.Text.RegularExpressions.Regex($@"filter '{token}' \(3 of \d+\)");
        WaitFor(s => ownCount.IsMatch(s) && s.Contains("rows 1-2 of 3", StringComparison.Ordinal));
        Keys("<"); // sort by name: a, b, c
        var screen = WaitFor(s => s.Contains("vNAME", StringComparison.Ordinal) && s.Contains("rows 1-2 of 3", StringComparison.Ordinal));
        Assert.Equal(new[] { a.Name, b.Name }, Order(screen, names));
        Assert.Contains($">{a.Name}", screen);

        Keys("End");
        screen = WaitFor(s => s.Contains("rows 2-3 of 3", StringComparison.Ordinal));
        Assert.Equal(new[] { b.Name, c.Name }, Order(screen, names));
        Assert.Contains($">{c.Name}", screen);
        Keys("Up", "Up");
        screen = WaitFor(s => s.Contains($">{a.Name}", StringComparison.Ordinal));
        Assert.Contains("rows 1-2 of 3", screen);
        Keys("NPage");
        screen = WaitFor(s => s.Contains($">{c.Name}", StringComparison.Ordinal));
        Assert.Contains("rows 2-3 of 3", screen);

        // Filtered down to one VM under a scrolled window: one row, no position, nothing left of the others.
        Keys("c", "/", $"{token}-a", "Enter"); // c clears the -g filter: the new one is typed afresh
        screen = WaitFor(s => s.Contains($"filter '{token}-a' (1 of ", StringComparison.Ordinal));
        Assert.Equal(new[] { a.Name }, Order(screen, names));
        Assert.DoesNotContain(b.Name, screen);
        Assert.DoesNotContain(c.Name, screen);
        Assert.DoesNotContain("rows ", screen);
        Keys("/", "BSpace", "BSpace", "Enter"); // editing starts from the filter: back to the token alone
        WaitFor(s => ownCount.IsMatch(s) && s.Contains("rows 1-2 of 3", StringComparison.Ordinal));

        // 48 columns: the whole names keep their room and the columns that do not fit beside them are named; Tab shows them.
        Requirements.Run(_tmux!, $"-L {_socket} resize-window -t top -x 48 -y 7");
        screen = WaitFor(s => s.Contains("+3 cols (tab: set 1/2): RSS DIS", StringComparison.Ordinal)); // the status line is cut at 48
        Assert.Matches(@"(?m)^.NAME +CPU +STEAL% +GUEST *$", screen);
        Assert.All(screen.Split('\n'), line => Assert.True(line.Length <= 48, line));
        Assert.Equal(2, Order(screen, names).Count); // two rows fit, each with its whole name
        Keys("Tab");
        screen = WaitFor(s => s.Contains("NET/s", StringComparison.Ordinal) && s.Contains("set 2/2", StringComparison.Ordinal));
        Assert.Matches(@"(?m)^.NAME +RSS +DISK/s +NET/s *$", screen);
        Assert.Equal(2, Order(screen, names).Count);

        // A wide pane: every row and every column, no position and no held-back columns.
        Requirements.Run(_tmux!, $"-L {_socket} resize-window -t top -x 160 -y 24");
        screen = WaitFor(s => Order(s, names).Count == 3 && !s.Contains("cols (tab", StringComparison.Ordinal));
        Assert.Equal(names, Order(screen, names));
        Assert.Matches(@"(?m)^vNAME +CPU +STEAL% +GUEST +RSS +DISK/s +NET/s *$", screen);
        Assert.DoesNotContain("rows ", screen);

        Keys("q");
        AssertCleanTerminal(WaitFor(s => s.Contains("TTY-MODES: ", StringComparison.Ordinal), 15_000));
    }

    [SkippableFact]
    public void CtrlCLeavesTheTerminalCleanAndNoColorMeansNoAttributes()
    {
        SkipUnlessReady();
        var token = Guid.NewGuid().ToString("N")[..8];
        using var idle = _host.StartDomain($"{LibvirtdHost.NamePrefix}{token}-idle");
        StartPane(token, "NO_COLOR=1");
        WaitFor(s => s.Contains(idle.Name, StringComparison.Ordinal) && s.Contains("interval", StringComparison.Ordinal));
        Assert.DoesNotContain("\x1b[7m", CaptureWithAttributes());
        Assert.Contains($">{idle.Name}", Capture()); // the selection still shows, as a marker
        Keys("C-c");
        AssertCleanTerminal(WaitFor(s => s.Contains("TTY-MODES: ", StringComparison.Ordinal), 15_000));
    }

    [SkippableFact]
    public void SigtermLeavesTheTerminalClean()
    {
        SkipUnlessReady();
        var token = Guid.NewGuid().ToString("N")[..8];
        using var idle = _host.StartDomain($"{LibvirtdHost.NamePrefix}{token}-idle");
        StartPane(token);
        WaitFor(s => s.Contains(idle.Name, StringComparison.Ordinal) && s.Contains("interval", StringComparison.Ordinal));
        var shell = Display("#{pane_pid}");
        var child = Requirements.Run("/usr/bin/pgrep", $"-P {shell}").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var pid = Assert.Single(child);
        Assert.Equal(0, Requirements.Run("/bin/kill", $"-TERM {pid}").ExitCode);
        AssertCleanTerminal(WaitFor(s => s.Contains("TTY-MODES: ", StringComparison.Ordinal), 15_000));
    }

    /// <summary>--log --csv without a terminal: the header once, then one line per VM per interval with the spinning VM's CPU.</summary>
    [SkippableFact]
    public void LogCsvLinesCarryEveryVmEachIntervalUnderOneHeader()
    {
        Skip.IfNot(_host.Available, _host.SkipReason);
        Skip.IfNot(Requirements.IsRoot, "vmprobe top reads the QEMU threads of libvirt's domains: needs root");
        var token = Guid.NewGuid().ToString("N")[..8];
        using var spin = _host.StartDomain($"{LibvirtdHost.NamePrefix}{token}-spin", spinning: true);
        using var idle = _host.StartDomain($"{LibvirtdHost.NamePrefix}{token}-idle");
        var csvDir = Path.Combine(_dir, "csv");
        var psi = new ProcessStartInfo(Dotnet())
        {
            ArgumentList = { RepoPaths.VmprobeDll, "top", "--config", Config(), "--log", "--csv", "-g", token, "--csvdir", csvDir },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi)!;
        _ = process.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        var deadline = Environment.TickCount64 + 60_000;
        while (lines.Count < 1 + 2 * 4 && Environment.TickCount64 < deadline && process.StandardOutput.ReadLine() is { } line)
        {
            lines.Add(line);
        }

        process.Kill();
        process.WaitForExit();
        _output.WriteLine(string.Join('\n', lines));
        Assert.Equal("timestamp,domain,cpu_cores,steal_ratio", string.Join(',', lines[0].Split(',').Take(4)));
        Assert.Single(lines, l => l.StartsWith("timestamp", StringComparison.Ordinal));
        Assert.Equal(4, lines.Count(l => l.Split(',')[1] == spin.Name));
        Assert.Equal(4, lines.Count(l => l.Split(',')[1] == idle.Name));
        Assert.All(lines.Skip(1), l => Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,", l));

        // Runnable (run + wait, both over wall time) of the spinning VM, from the lines that have both values.
        var runnable = lines.Where(l => l.Split(',')[1] == spin.Name).Select(l => l.Split(','))
            .Where(f => f[2].Length > 0 && f[3].Length > 0)
            .Select(f => double.Parse(f[2], CultureInfo.InvariantCulture) + double.Parse(f[3], CultureInfo.InvariantCulture)).ToList();
        Assert.NotEmpty(runnable);
        // The median: on a loaded machine one interval's read can come late against the cycle's timestamp.
        Assert.InRange(runnable.Order().ElementAt(runnable.Count / 2), 0.75, 1.3);

        // --csvdir: the same rows, one file per VM.
        var spinCsv = File.ReadAllLines(Path.Combine(csvDir, spin.Name + ".csv"));
        Assert.StartsWith("timestamp,cpu_cores,", spinCsv[0]);
        Assert.EndsWith(",event_task_clock_per_second", spinCsv[0]);
        Assert.True(spinCsv.Length >= 4, string.Join('\n', spinCsv));
    }

    /// <summary>Not a terminal (stdout a pipe): plain frames one after another, no escape sequence at all.</summary>
    [SkippableFact]
    public void WithoutATerminalFramesArePlainText()
    {
        Skip.IfNot(_host.Available, _host.SkipReason);
        Skip.IfNot(Requirements.IsRoot, "vmprobe top reads the QEMU threads of libvirt's domains: needs root");
        var token = Guid.NewGuid().ToString("N")[..8];
        using var idle = _host.StartDomain($"{LibvirtdHost.NamePrefix}{token}-idle");
        var psi = new ProcessStartInfo(Dotnet())
        {
            ArgumentList = { RepoPaths.VmprobeDll, "top", "--config", Config(), "-g", token },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["TERM"] = "xterm-256color";
        using var process = Process.Start(psi)!;
        _ = process.StandardError.ReadToEndAsync();
        var text = new System.Text.StringBuilder();
        var deadline = Environment.TickCount64 + 60_000;
        while (Environment.TickCount64 < deadline && process.StandardOutput.ReadLine() is { } line)
        {
            text.Append(line).Append('\n');
            if (System.Text.RegularExpressions.Regex.Matches(text.ToString(), "host CPU").Count >= 3)
            {
                break;
            }
        }

        process.Kill();
        process.WaitForExit();
        var output = text.ToString();
        _output.WriteLine(output);
        Assert.DoesNotContain("\x1b", output);
        Assert.True(System.Text.RegularExpressions.Regex.Matches(output, "host CPU").Count >= 3, output);
        Assert.Contains(idle.Name, output);
        Assert.DoesNotContain(TopRenderHelp, output); // nobody can press a key
    }

    private const string TopRenderHelp = "q quit  < > sort";

    /// <summary>Exit 0, back on the main screen with the cursor on and no screen lines left over, termios canonical with echo.</summary>
    private void AssertCleanTerminal(string screen)
    {
        Assert.Contains("VMPROBE-EXIT=0", screen);
        Assert.Equal("0", Display("#{alternate_on}"));
        Assert.Equal("1", Display("#{cursor_flag}"));
        Assert.DoesNotContain("host CPU", screen);
        Assert.DoesNotContain("\x1b", screen);
        var modes = screen.Split('\n').First(l => l.StartsWith("TTY-MODES:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("icanon", modes);
        Assert.Contains("echo", modes);
    }
}
