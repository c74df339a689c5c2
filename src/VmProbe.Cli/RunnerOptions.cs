
namespace VmProbe.Cli;

/// <summary>The parsed command line. Hand-rolled: five options do not justify a parser dependency.</summary>
internal sealed class RunnerOptions
{
    public const string Usage = """
        Usage: vmprobe --config FILE [--once | --check] [--csvdir DIR] [--log-level LEVEL]
               vmprobe top [--config FILE] [-d SECONDS] [-g NAME] [--log [--csv]]   (vmprobe top --help)
               vmprobe guest [-H HOST:PORT] [-e EVENTS] [-i MS] [--cpu N] -- COMMAND  (inside a VM: see vmprobe guest --help)
               vmprobe --version | --help

        Reads perf, libvirt and procfs metrics of this KVM host and its domains every delay and
        writes them as a Prometheus textfile for node_exporter's textfile collector.

        Options:
          --config FILE       configuration file (YAML, or the C++ vmprobe's key=value config.yaml)
          --once              run one collection cycle, write the file, exit
          --check             validate the configuration, print what would be collected, exit
          --csvdir DIR        also append one CSV per VM under DIR each cycle (overrides the config's csvdir)
          --log-level LEVEL   debug, info (default), warning or error; logs go to stderr
          --version           print the version and exit
          -h, --help          print this help and exit

        Exit codes: 0 success (also when stopped by SIGINT/SIGTERM), 1 runtime failure,
                    2 usage or configuration error.
        """;

    public string? ConfigPath { get; private set; }

    public bool Once { get; private set; }

    /// <summary><c>--csvdir</c>: the per-VM CSV directory, over the config's <c>csvdir</c>.</summary>
    public string? CsvDir { get; private set; }

    public bool Check { get; private set; }

    public bool Version { get; private set; }

    public bool Help { get; private set; }

    public LogLevel LogLevel { get; private set; } = LogLevel.Info;

    /// <summary>Parses <paramref name="args"/>; on a usage error returns null and the reason in <paramref name="error"/>.</summary>
    public static RunnerOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        var options = new RunnerOptions();
        error = null;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string? inlineValue = null;
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=', StringComparison.Ordinal) is var eq and > 2)
            {
                inlineValue = arg[(eq + 1)..];
                arg = arg[..eq];
            }

            switch (arg)
            {
                case "--config":
                    if (!TakeValue(args, ref i, arg, inlineValue, out var path, out error))
                    {
                        return null;
                    }

                    options.ConfigPath = path;
                    break;
                case "--log-level":
                    if (!TakeValue(args, ref i, arg, inlineValue, out var level, out error))
                    {
                        return null;
                    }

                    if (!TryParseLevel(level, out var parsed))
                    {
                        error = $"--log-level: unknown level '{level}' (debug, info, warning or error)";
                        return null;
                    }

                    options.LogLevel = parsed;
                    break;
                case "--csvdir":
                    if (!TakeValue(args, ref i, arg, inlineValue, out var csvDir, out error))
                    {
                        return null;
                    }

                    if (csvDir.Any(char.IsControl))
                    {
                        error = "--csvdir: the directory contains a control character";
                        return null;
                    }

                    options.CsvDir = csvDir;
                    break;
                case "--once" when inlineValue is null:
                    options.Once = true;
                    break;
                case "--check" when inlineValue is null:
                    options.Check = true;
                    break;
                case "--version" when inlineValue is null:
                    options.Version = true;
                    break;
                case "--help" or "-h" when inlineValue is null:
                    options.Help = true;
                    break;
                default:
                    error = $"unknown argument '{args[i]}'";
                    return null;
            }
        }

        if (options.Help || options.Version)
        {
            return options;
        }

        if (options.ConfigPath is null)
        {
            error = "--config FILE is required";
            return null;
        }

        if (options.Once && options.Check)
        {
            error = "--once and --check exclude each other";
            return null;
        }

        return options;
    }

    private static bool TakeValue(IReadOnlyList<string> args, ref int i, string name, string? inlineValue, out string value, out string? error)
    {
        error = null;
        if (inlineValue is not null)
        {
            value = inlineValue;
        }
        else if (i + 1 < args.Count)
        {
            value = args[++i];
        }
        else
        {
            value = string.Empty;
        }

        if (value.Length == 0)
        {
            error = $"{name} needs a value";
            return false;
        }

        return true;
    }

    internal static bool TryParseLevel(string text, out LogLevel level)
    {
        switch (text.ToLowerInvariant())
        {
            case "debug":
                level = LogLevel.Debug;
                return true;
            case "info":
                level = LogLevel.Info;
                return true;
            case "warning" or "warn":
                level = LogLevel.Warning;
                return true;
            case "error":
                level = LogLevel.Error;
                return true;
            default:
                level = LogLevel.Info;
                return false;
        }
    }
}
