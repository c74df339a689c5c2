using System.Globalization;
using VmProbe.Config;
using VmProbe.Composition;

namespace VmProbe.Cli;

/// <summary>The runner's logic, separate from the console entry point (signals, console) so it can run in-process in tests.</summary>
internal static class ProbeRunner
{
    public const int ExitOk = 0;
    public const int ExitFailure = 1;
    public const int ExitUsage = 2;

    public static int Run(IReadOnlyList<string> args, RunnerWiring wiring, TextWriter stdout, TextWriter stderr, CancellationToken stopToken)
    {
        if (args.Count > 0 && args[0] == "top")
        {
            return Top.TopCommand.Run(args.Skip(1).ToList(), wiring, stdout, stderr, stopToken);
        }

        if (args.Count > 0 && args[0] == "guest")
        {
            return GuestCommand.Run(args.Skip(1).ToList(), stdout, stderr);
        }

        var options = RunnerOptions.Parse(args, out var usageError);
        if (options is null)
        {
            stderr.WriteLine($"vmprobe: {usageError}");
            stderr.WriteLine(RunnerOptions.Usage);
            return ExitUsage;
        }

        if (options.Help)
        {
            stdout.WriteLine(RunnerOptions.Usage);
            return ExitOk;
        }

        if (options.Version)
        {
            stdout.WriteLine($"vmprobe {ProbeInfo.Version}");
            return ExitOk;
        }

        var log = new StderrProbeLog(stderr, options.LogLevel);
        LoadedConfig loaded;
        try
        {
            loaded = wiring.LoadConfig(options.ConfigPath!);
        }
        catch (ConfigLoadFailedException error)
        {
            foreach (var warning in error.Warnings)
            {
                log.Write(LogLevel.Warning, warning);
            }

            foreach (var problem in error.Problems)
            {
                stderr.WriteLine(problem.ToString());
            }

            return ExitUsage;
        }
        catch (VmProbeException error)
        {
            // The file could not be read for a reason of the process (no fd left), not of the file: a runtime failure.
            log.Write(LogLevel.Error, $"vmprobe failed: {VmProbeException.Describe(error)}");
            return ExitFailure;
        }

        if (options.Check)
        {
            try
            {
                return Check(options.ConfigPath!, loaded, wiring, stdout, stderr);
            }
            catch (VmProbeException error)
            {
                // As for reading the file: no fd left to check the host with is the process's failure, not the config's.
                log.Write(LogLevel.Error, $"vmprobe failed: {VmProbeException.Describe(error)}");
                return ExitFailure;
            }
        }

        foreach (var warning in loaded.Warnings)
        {
            log.Write(LogLevel.Warning, warning);
        }

        try
        {
            return RunProbe(loaded.Config, options, wiring, log, stopToken);
        }
        catch (Exception error)
        {
            log.Write(LogLevel.Error, $"vmprobe failed: {VmProbeException.Describe(error)}");
            return ExitFailure;
        }
    }

    private static int RunProbe(ProbeConfig config, RunnerOptions options, RunnerWiring wiring, IProbeLog log, CancellationToken stopToken)
    {
        var once = options.Once;
        using var probe = options.CsvDir is { } csvDir && wiring.StartProbeWith is { } startWith
            ? startWith(config, log, new ProbeOutputs { CsvDir = csvDir })
            : wiring.StartProbe(config, log);
        var loop = probe.Loop;
        log.Write(LogLevel.Info, string.Create(CultureInfo.InvariantCulture,
            $"vmprobe {ProbeInfo.Version} {(once ? "collecting once" : "started")}: {probe.SourceNames.Count} source(s) [{string.Join(", ", probe.SourceNames)}], delay {config.DelayMs} ms, writing {loop.Destination}"));

        if (once)
        {
            try
            {
                probe.RunOnceAsync(stopToken).GetAwaiter().GetResult();
            }
            catch (Exception error)
            {
                // Already logged by the cycle's export health; the exit code says the file was not written.
                log.Write(LogLevel.Error, $"could not write {loop.Destination}: {VmProbeException.Describe(error)}");
                return ExitFailure;
            }

            return ExitOk;
        }

        loop.RunAsync(stopToken).GetAwaiter().GetResult();
        log.Write(LogLevel.Info, $"stopped after {loop.CyclesCompleted} cycle(s)");
        return ExitOk;
    }

    private static int Check(string path, LoadedConfig loaded, RunnerWiring wiring, TextWriter stdout, TextWriter stderr)
    {
        // What a run would refuse or skip on this host is a config error too: printed like the loader's, exit 2.
        var hostProblems = wiring.CheckHost(loaded);
        if (hostProblems.Count > 0)
        {
            foreach (var problem in hostProblems)
            {
                stderr.WriteLine(problem.ToString());
            }

            return ExitUsage;
        }

        var config = loaded.Config;
        var sources = SourceRegistry.EnabledFor(config).ToList();
        var inv = CultureInfo.InvariantCulture;
        stdout.WriteLine($"config:      {config.SourcePath ?? path}");
        stdout.WriteLine($"endpoint:    {config.Endpoint}");
        stdout.WriteLine(string.Create(inv, $"delay:       {config.DelayMs} ms"));
        stdout.WriteLine($"prefix:      {config.Prefix}");
        stdout.WriteLine($"naming:      {config.Naming.ToString().ToLowerInvariant()}");
        stdout.WriteLine($"targets:     discovery {config.Discovery.ToString().ToLowerInvariant()}, url {config.Url}");
        stdout.WriteLine($"attribution: {config.Attribution.ToString().ToLowerInvariant()}{(config.PerCpu ? ", host counters per cpu" : string.Empty)}");
        stdout.WriteLine($"sources:     {(sources.Count == 0 ? "(none)" : string.Join(", ", sources.Select(s => s.Name)))}");
        foreach (var source in sources)
        {
            stdout.WriteLine($"  {source.Name}: {source.Description}");
        }

        stdout.WriteLine($"kvm exits:   {ConfigHostCheck.DescribeKvmExits(config)}");
        stdout.WriteLine($"kvm stats:   {ConfigHostCheck.DescribeKvmStats(config)}");
        stdout.WriteLine($"power:       {ConfigHostCheck.DescribePower(config)}");
        stdout.WriteLine(string.Create(inv, $"events:      {config.Events.Count}"));
        foreach (var spec in config.Events)
        {
            var tracepoint = spec.TracepointName is null ? string.Empty : $" {spec.TracepointName}";
            stdout.WriteLine(string.Create(inv, $"  {spec.CanonicalName} ({spec.Kind.ToString().ToLowerInvariant()}{tracepoint}, type {spec.Type}, config 0x{spec.Config:x})"));
        }

        foreach (var warning in loaded.Warnings)
        {
            stdout.WriteLine($"warning:     {warning}");
        }

        stdout.WriteLine("configuration OK");
        return ExitOk;
    }
}
