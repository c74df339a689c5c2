using System.Globalization;

namespace VmProbe.Cli.Top;

/// <summary>The command line of <c>vmprobe top</c> (kvm_stat's options where they mean the same: -d, -g, -l).</summary>
internal sealed class TopOptions
{
    public const string Usage = """
        Usage: vmprobe top [--config FILE] [-d SECONDS] [-g NAME] [--log [--csv]] [--csvdir DIR]

        A live view of this host's VMs, refreshed every interval from the same sources and cycle as the textfile
        (the endpoint is not written). Keys: < > sort column, r reverse, / or g filter by name, up/down select,
        Enter drill into the VM (per vCPU, exit reason, event), Esc back, q quit.

        Options:
          --config FILE       configuration file (sources, events, url); without it every key has its default
          -d, --delay SECONDS refresh interval (default 1; at least 0.1)
          -g, --guest NAME    show only VMs whose name contains NAME (case-insensitive)
          -l, --log           no screen: one timestamped line per VM per interval, one header, no banners
          --csv               with --log: CSV lines
          --csvdir DIR        also append one CSV per VM under DIR (the config key csvdir)
          --log-level LEVEL   debug, info, warning (default) or error; with --log logs go to stderr
        """;

    public string? ConfigPath { get; private set; }

    public int? DelayMs { get; private set; }

    public string? Filter { get; private set; }

    public bool Log { get; private set; }

    public bool Csv { get; private set; }

    public string? CsvDir { get; private set; }

    public LogLevel LogLevel { get; private set; } = LogLevel.Warning;

    public bool Help { get; private set; }

    /// <summary>Parses the arguments after <c>top</c>; null and the reason on a usage error.</summary>
    public static TopOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        var options = new TopOptions();
        error = null;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string? Value(ref int at, out string? problem)
            {
                problem = at + 1 < args.Count && args[at + 1].Length > 0 ? null : $"{arg} needs a value";
                return problem is null ? args[++at] : null;
            }

            switch (arg)
            {
                case "--config":
                    options.ConfigPath = Value(ref i, out error);
                    break;
                case "-d" or "--delay":
                    var text = Value(ref i, out error);
                    if (text is not null)
                    {
                        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || !(seconds >= 0.1) || seconds > 3600)
                        {
                            error = $"{arg}: '{text}' is not a number of seconds from 0.1 to 3600";
                        }
                        else
                        {
                            options.DelayMs = (int)Math.Round(seconds * 1000);
                        }
                    }

                    break;
                case "-g" or "--guest":
                    options.Filter = Value(ref i, out error);
                    break;
                case "--csvdir":
                    options.CsvDir = Value(ref i, out error);
                    break;
                case "--log-level":
                    var level = Value(ref i, out error);
                    if (level is not null)
                    {
                        if (!RunnerOptions.TryParseLevel(level, out var parsed))
                        {
                            error = $"--log-level: unknown level '{level}' (debug, info, warning or error)";
                        }

                        options.LogLevel = parsed;
                    }

                    break;
                case "-l" or "--log":
                    options.Log = true;
                    break;
                case "--csv":
                    options.Csv = true;
                    break;
                case "-h" or "--help":
                    options.Help = true;
                    break;
                default:
                    error = $"top: unknown argument '{arg}'";
                    break;
            }

            if (error is not null)
            {
                return null;
            }
        }

        if (options.Csv && !options.Log)
        {
            error = "--csv needs --log (the screen is not CSV)";
            return null;
        }

        return options;
    }
}
