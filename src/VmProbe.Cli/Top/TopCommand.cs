using VmProbe.Composition;
using VmProbe.Config;
using VmProbe.Views;

namespace VmProbe.Cli.Top;

/// <summary>
/// <c>vmprobe top</c>: the probe's own loop and sources with a screen (or log lines) as the sink instead of the textfile.
/// The terminal is restored in <c>finally</c> and at process exit, so q, Ctrl+C (SIGINT) and SIGTERM all leave it clean.
/// </summary>
internal static class TopCommand
{
    public const int DefaultDelayMs = 1000;

    public static int Run(IReadOnlyList<string> args, RunnerWiring wiring, TextWriter stdout, TextWriter stderr, CancellationToken stopToken)
    {
        var options = TopOptions.Parse(args, out var usageError);
        if (options is null)
        {
            stderr.WriteLine($"vmprobe: {usageError}");
            stderr.WriteLine(TopOptions.Usage);
            return ProbeRunner.ExitUsage;
        }

        if (options.Help)
        {
            stdout.WriteLine(TopOptions.Usage);
            return ProbeRunner.ExitOk;
        }

        if (wiring.StartProbeWith is null)
        {
            stderr.WriteLine("vmprobe: top is not available in this build");
            return ProbeRunner.ExitFailure;
        }

        var stderrLog = new StderrProbeLog(stderr, options.LogLevel);
        ProbeConfig config;
        if (options.ConfigPath is { } path)
        {
            try
            {
                config = wiring.LoadConfig(path).Config;
            }
            catch (ConfigLoadFailedException error)
            {
                foreach (var problem in error.Problems)
                {
                    stderr.WriteLine(problem.ToString());
                }

                return ProbeRunner.ExitUsage;
            }
        }
        else
        {
            config = new ProbeConfig();
        }

        config = config.WithDelay(options.DelayMs ?? DefaultDelayMs);
        var state = new TopState { Filter = options.Filter };
        using var quit = CancellationTokenSource.CreateLinkedTokenSource(stopToken);
        if (options.Log)
        {
            var writer = new ViewLogWriter(stdout, options.Csv, state.Matches);
            return RunLoop(wiring, config, options, stderrLog, writer, quit.Token);
        }

        using var terminal = TerminalSession.Open(stdout);
        var screenLog = new ScreenLog(options.LogLevel);
        var screen = new TopScreen(terminal, state, () => screenLog.Last);
        if (terminal.Keys)
        {
            new Thread(() => TopKeys.ReadLoop(screen, quit.Cancel)) { IsBackground = true, Name = "vmprobe-top-keys" }.Start();
        }

        int exit;
        try
        {
            screen.Redraw();
            exit = RunLoop(wiring, config, options, terminal.Escapes ? screenLog : stderrLog, screen, quit.Token);
        }
        finally
        {
            terminal.Restore();
        }

        // A failure shown only in the footer would vanish with the alternate screen.
        if (exit != ProbeRunner.ExitOk && terminal.Escapes && screenLog.Last is { } last)
        {
            stderr.WriteLine($"vmprobe: {last}");
        }

        return exit;
    }

    private static int RunLoop(RunnerWiring wiring, ProbeConfig config, TopOptions options, IProbeLog log, IViewConsumer view, CancellationToken stop)
    {
        try
        {
            var outputs = new ProbeOutputs { Textfile = false, Views = new[] { view }, CsvDir = options.CsvDir };
            using var probe = wiring.StartProbeWith!(config, log, outputs);
            probe.Loop.RunAsync(stop).GetAwaiter().GetResult();
            return ProbeRunner.ExitOk;
        }
        catch (Exception error)
        {
            log.Write(LogLevel.Error, $"vmprobe top failed: {VmProbeException.Describe(error)}");
            return ProbeRunner.ExitFailure;
        }
    }
}
