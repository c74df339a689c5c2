using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace VmProbe.Tests.Infrastructure;

/// <summary>
/// A real server a test starts on 127.0.0.1 and a free port (node_exporter, Prometheus): its stdout and stderr kept as
/// <see cref="Log"/>, a wait until it answers HTTP, another port when the probed one was taken before the server bound
/// it, and a kill (process tree) on Dispose, so no process is left behind.
/// </summary>
public abstract class LocalServerProcess : IDisposable
{
    protected static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(15) };

    private readonly StringBuilder _log = new();
    private readonly Process _process = new();

    protected LocalServerProcess(int port) => Port = port;

    public int Port { get; }

    public int ProcessId => _process.Id;

    /// <summary>Everything the server wrote to stdout and stderr so far.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>The server's name in error messages.</summary>
    protected abstract string ServerName { get; }

    /// <summary>Kills the server, then <see cref="Cleanup"/>.</summary>
    public void Dispose()
    {
        Kill();
        _process.Dispose();
        Cleanup();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Launches a server on a free loopback port with <paramref name="launch"/> and waits until <paramref name="readiness"/>
    /// (relative to http://127.0.0.1:PORT/) answers 200; a clash on the port ("address already in use") tries another.
    /// </summary>
    /// <exception cref="InvalidOperationException">The server exited or did not answer within <paramref name="limit"/>; the message has its log.</exception>
    protected static T StartOnFreePort<T>(Func<int, T> launch, string readiness, TimeSpan limit)
        where T : LocalServerProcess
    {
        for (var attempt = 1; ; attempt++)
        {
            var host = launch(FreeLoopbackPort());
            try
            {
                host.WaitUntilAnswering(new Uri($"http://127.0.0.1:{host.Port}/{readiness}"), limit);
                return host;
            }
            catch (InvalidOperationException) when (attempt < 3 && host.Log.Contains("address already in use", StringComparison.Ordinal))
            {
                host.Kill(); // not Dispose: the next attempt keeps the directories
            }
            catch
            {
                host.Dispose();
                throw;
            }
        }
    }

    /// <summary>Starts <paramref name="executable"/> with <paramref name="arguments"/>, its output going to <see cref="Log"/>.</summary>
    protected void Launch(string executable, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true, // no stdin of ours is inherited
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? string.Empty,
        };
        foreach (var argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }

        _process.StartInfo = psi;
        _process.OutputDataReceived += (_, e) => AppendLog(e.Data);
        _process.ErrorDataReceived += (_, e) => AppendLog(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Removes what the server's run created (its temp directories); called once, after the process is gone.</summary>
    protected virtual void Cleanup()
    {
    }

    protected static void DeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void AppendLog(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

    private void WaitUntilAnswering(Uri uri, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            if (_process.HasExited)
            {
                _process.WaitForExit(); // drain the log
                throw new InvalidOperationException($"{ServerName} exited with code {_process.ExitCode} before answering on {uri}: {Log}");
            }

            try
            {
                using var response = Http.GetAsync(uri).GetAwaiter().GetResult();
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"{ServerName} did not answer on {uri} within {limit.TotalSeconds} s: {Log}");
            }

            Thread.Sleep(50);
        }
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.WaitForExit();
        }
        catch (InvalidOperationException)
        {
            // never started
        }
    }
}
