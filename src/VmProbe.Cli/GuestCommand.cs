using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace VmProbe.Cli;

/// <summary>
/// <c>vmprobe guest</c>, run inside a VM: starts a command, asks the host's guest endpoint for the chosen events of this
/// VM for the command's lifetime, prints periodic lines (<c>-i</c>) and a perf-stat-like report. JSON by
/// Utf8JsonWriter/Utf8JsonReader only (NativeAOT). The host decides which VM this is; nothing here can choose another.
/// </summary>
internal static class GuestCommand
{
    private const int ReplyTimeoutMs = 10_000;

    public const string Usage = """
        Usage: vmprobe guest [-H HOST:PORT] [-e EVENT,...] [-i MS] [--cpu N] [--domain NAME] [--] COMMAND [ARG...]

        Runs COMMAND and prints this VM's host-side perf counters for its lifetime, as perf-kvm's guest client did.
          -H HOST:PORT   the host's guest endpoint (default 192.168.122.1:9999, or $VMPROBE_HOST)
          -e EVENTS      comma-separated perf events (default task-clock,context-switches)
          -i MS          also print the counts of every MS milliseconds (at least the host's floor, 100)
          --cpu N        count vCPU N only
          --domain NAME  the domain this VM believes it is: the host refuses if it is another
        """;

    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var host = Environment.GetEnvironmentVariable("VMPROBE_HOST") is { Length: > 0 } fromEnv ? fromEnv : "192.168.122.1:9999";
        var events = "task-clock,context-switches";
        int interval = 0;
        int? vcpu = null;
        string? domain = null;
        var i = 0;
        for (; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                i++;
                break;
            }

            if (!arg.StartsWith('-'))
            {
                break;
            }

            if (arg is "-h" or "--help")
            {
                stdout.WriteLine(Usage);
                return ProbeRunner.ExitOk;
            }

            if (i + 1 >= args.Count)
            {
                return UsageError(stderr, $"{arg} needs a value");
            }

            var value = args[++i];
            switch (arg)
            {
                case "-H":
                    host = value;
                    break;
                case "-e":
                    events = value;
                    break;
                case "-i" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms):
                    interval = ms;
                    break;
                case "--cpu" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n):
                    vcpu = n;
                    break;
                case "--domain":
                    domain = value;
                    break;
                default:
                    return UsageError(stderr, $"unknown option or bad value: {arg} {value}");
            }
        }

        if (i >= args.Count)
        {
            return UsageError(stderr, "a COMMAND to run is required");
        }

        var colon = host.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(host.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            return UsageError(stderr, $"-H: '{host}' is not HOST:PORT");
        }

        var command = args.Skip(i).ToList();
        return Session(host[..colon].Trim('[', ']'), port, Request(events, interval, vcpu, domain), command, interval > 0, stdout, stderr);
    }

    private static int Session(string host, int port, byte[] request, List<string> command, bool periodic, TextWriter stdout, TextWriter stderr)
    {
        using var client = new TcpClient();
        string? first;
        StreamReader reader;
        NetworkStream stream;
        try
        {
            // A host that does not answer must not hang the guest: bounded connect and first reply.
            if (!client.ConnectAsync(host, port).Wait(TimeSpan.FromMilliseconds(ReplyTimeoutMs)))
            {
                throw new TimeoutException($"no connection within {ReplyTimeoutMs / 1000} s");
            }

            stream = client.GetStream();
            stream.ReadTimeout = ReplyTimeoutMs;
            stream.Write(request);
            reader = new StreamReader(stream, Encoding.UTF8);
            first = reader.ReadLine();
            stream.ReadTimeout = Timeout.Infinite; // later lines come as the session runs (the summary at its end)
        }
        catch (Exception ex) when (ex is SocketException or IOException or TimeoutException or AggregateException)
        {
            var why = ex is AggregateException { InnerException: { } inner } ? inner.Message : ex.Message;
            stderr.WriteLine($"vmprobe guest: cannot reach the host's guest endpoint {host}:{port}: {why}");
            return ProbeRunner.ExitFailure;
        }

        if (first is null || Type(first) != "start")
        {
            stderr.WriteLine(first is not null && Type(first) is null
                ? $"vmprobe guest: {host}:{port} is not a VmProbe guest endpoint: it answered '{Shorten(first)}'"
                : $"vmprobe guest: the host refused: {Describe(first)}");
            return ProbeRunner.ExitFailure;
        }

        var clock = Stopwatch.StartNew();
        var psi = new ProcessStartInfo(command[0]) { UseShellExecute = false };
        command.Skip(1).ToList().ForEach(psi.ArgumentList.Add);
        string? summary = null;
        var lines = Task.Run(() =>
        {
            while (reader.ReadLine() is { } line)
            {
                if (Type(line) == "summary" || Type(line) == "error")
                {
                    summary = line;
                }
                else if (periodic && Type(line) == "interval")
                {
                    PrintInterval(line, stdout);
                }
            }
        });

        int exitCode;
        try
        {
            using var process = Process.Start(psi)!;
            process.WaitForExit();
            exitCode = process.ExitCode;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            stderr.WriteLine($"vmprobe guest: cannot run '{command[0]}': {ex.Message}");
            exitCode = 127;
        }

        var elapsed = clock.Elapsed;
        try
        {
            stream.Write("end\n"u8);
        }
        catch (IOException)
        {
            // The host already ended the session (duration ceiling): its summary is in the lines read.
        }

        try
        {
            lines.Wait(TimeSpan.FromSeconds(30));
        }
        catch (AggregateException)
        {
            // The connection broke or a line was not the endpoint's: no summary, said below.
        }

        if (summary is null || Type(summary) != "summary")
        {
            stderr.WriteLine($"vmprobe guest: no summary from the host: {Describe(summary)}");
            return exitCode == 0 ? ProbeRunner.ExitFailure : exitCode;
        }

        // The host ended the session before the command did: its counts cover only part of the run, never the whole.
        var early = Ended(summary) is "closed" or "duration" ? null : Ended(summary) ?? "no reason given";
        PrintReport(string.Join(' ', command), first, summary, elapsed, early, stdout);
        if (early is not null)
        {
            stderr.WriteLine($"vmprobe guest: partial: the host ended the session early ({early}); the counts cover only its first {HostSeconds(summary)} s");
            return exitCode == 0 ? ProbeRunner.ExitFailure : exitCode;
        }

        return exitCode;
    }

    private static byte[] Request(string events, int interval, int? vcpu, string? domain)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("events");
            foreach (var e in events.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                w.WriteStringValue(e);
            }

            w.WriteEndArray();
            w.WriteNumber("interval_ms", interval);
            if (vcpu is { } n)
            {
                w.WriteNumber("vcpu", n);
            }

            if (domain is not null)
            {
                w.WriteString("domain", domain);
            }

            w.WriteEndObject();
        }

        return [.. buffer.WrittenSpan, (byte)'\n'];
    }

    private static void PrintInterval(string line, TextWriter stdout)
    {
        using var doc = JsonDocument.Parse(line);
        var seconds = doc.RootElement.GetProperty("elapsed_ms").GetInt64() / 1000.0;
        foreach (var (name, value) in Counters(doc.RootElement))
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{seconds,14:0.000} {value,20:N0}      {name}"));
        }
    }

    private static void PrintReport(string command, string start, string summary, TimeSpan elapsed, string? early, TextWriter stdout)
    {
        using var startDoc = JsonDocument.Parse(start);
        using var doc = JsonDocument.Parse(summary);
        stdout.WriteLine();
        var partial = early is null ? "" : $", partial: {early}";
        stdout.WriteLine($" Performance counter stats for '{command}' (domain {startDoc.RootElement.GetProperty("domain").GetString()}, counted by the host{partial}):");
        stdout.WriteLine();
        foreach (var (name, value) in Counters(doc.RootElement))
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{value,20:N0}      {name}"));
        }

        foreach (var state in startDoc.RootElement.GetProperty("events").EnumerateArray().Where(e => !e.GetProperty("supported").GetBoolean()))
        {
            stdout.WriteLine($"{"<not supported>",20}      {state.GetProperty("event").GetString()}");
        }

        stdout.WriteLine();
        stdout.WriteLine(early is null
            ? string.Create(CultureInfo.InvariantCulture, $"{elapsed.TotalSeconds,20:0.000000000} seconds time elapsed")
            : $"{HostSeconds(summary),20} seconds counted by the host (partial: {early}; the command ran longer)");
    }

    private static string? Ended(string summary)
    {
        using var doc = JsonDocument.Parse(summary);
        return doc.RootElement.TryGetProperty("ended", out var ended) ? ended.GetString() : null;
    }

    private static string HostSeconds(string summary)
    {
        using var doc = JsonDocument.Parse(summary);
        return (doc.RootElement.GetProperty("elapsed_ms").GetInt64() / 1000.0).ToString("0.000", CultureInfo.InvariantCulture);
    }

    private static string Shorten(string text) =>
        new string(text.Take(60).Select(c => char.IsControl(c) ? '?' : c).ToArray()) + (text.Length > 60 ? "..." : "");

    private static IEnumerable<(string Name, double Value)> Counters(JsonElement line) =>
        line.GetProperty("counters").EnumerateArray().Select(c =>
            (c.TryGetProperty("vcpu", out var v) ? $"{c.GetProperty("event").GetString()} (vcpu {v.GetInt32()})" : c.GetProperty("event").GetString()!, c.GetProperty("value").GetDouble()));

    /// <summary>The line's <c>type</c>; null when it is not a JSON object with one (not the guest endpoint talking).</summary>
    private static string? Type(string line)
    {
        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(line));
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("type"u8) && reader.Read())
                {
                    return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
            }
        }
        catch (JsonException)
        {
        }

        return null;
    }

    private static string Describe(string? line)
    {
        if (line is null)
        {
            return "the connection closed";
        }

        using var doc = JsonDocument.Parse(line);
        return doc.RootElement.TryGetProperty("message", out var message)
            ? $"{message.GetString()} [{doc.RootElement.GetProperty("code").GetString()}]"
            : line;
    }

    private static int UsageError(TextWriter stderr, string message)
    {
        stderr.WriteLine($"vmprobe guest: {message}");
        stderr.WriteLine(Usage);
        return ProbeRunner.ExitUsage;
    }
}
