using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace VmProbe.Power;

/// <summary>Why a powermeter run gave no reading (the <c>reason</c> label of its failure counter).</summary>
internal enum PowermeterFailure
{
    Start,
    Timeout,
    Exit,
    Output,
}

/// <summary>
/// The configured external meter (config key <c>powermeter</c>: a smart plug, IPMI DCMI), a shell command that prints
/// watts. It runs in the background, one run at a time: <see cref="Poll"/> starts a run when none is under way and
/// returns the last completed reading without waiting, so a slow or hanging meter never delays the cycle. A run is
/// killed (with its children) after the timeout or when it prints more than <see cref="MaxOutputBytes"/>; its output
/// must be one number of watts (an optional <c>W</c> after it); anything else is counted as a failure by reason.
/// A meter that stops answering does not keep its last watts forever: the reading expires after
/// <see cref="ExpireAfterFailures"/> failed runs in a row or once it is older than the configured age, whichever is
/// first. A failure streak is told once: one warning when it starts, one info line when the meter answers again.
/// </summary>
internal sealed class PowermeterCommand : IDisposable
{
    public const int MaxOutputBytes = 1024;

    /// <summary>Failed runs in a row after which the last reading is no longer reported.</summary>
    public const int ExpireAfterFailures = 3;

    private readonly string _command;
    private readonly TimeSpan _timeout;
    private readonly TimeSpan _maxAge;
    private readonly Queue<(LogLevel Level, string Text)> _notes = new();
    private long _readAt; // Stopwatch timestamp of the last good reading
    private int _failedInARow;
    private bool _failing;
    private double? _lastWatts;
    private readonly object _gate = new();
    private readonly long[] _failures = new long[Enum.GetValues<PowermeterFailure>().Length];
    private Task? _running;
    private Process? _process;
    private bool _disposed;

    /// <param name="maxAge">How old the last reading may be and still be reported (the runner: three intervals); null for no limit.</param>
    public PowermeterCommand(string command, TimeSpan timeout, TimeSpan? maxAge = null)
    {
        _command = command;
        _timeout = timeout;
        _maxAge = maxAge ?? TimeSpan.MaxValue;
    }

    /// <summary>The last completed reading in watts while it is current, else null (none yet, or expired).</summary>
    public double? LastWatts
    {
        get
        {
            lock (_gate)
            {
                return _lastWatts is { } watts && _failedInARow < ExpireAfterFailures && Stopwatch.GetElapsedTime(_readAt) <= _maxAge ? watts : null;
            }
        }
    }

    /// <summary>The last failure's text, kept until a run succeeds (for <c>--check</c>).</summary>
    private string? _failureText;

    public long Failures(PowermeterFailure reason)
    {
        lock (_gate)
        {
            return _failures[(int)reason];
        }
    }

    /// <summary>Starts a run unless one is under way; returns the last completed reading at once.</summary>
    public double? Poll()
    {
        lock (_gate)
        {
            if (!_disposed && (_running is null || _running.IsCompleted))
            {
                _running = Task.Run(RunOnce);
            }
        }

        return LastWatts;
    }

    /// <summary>For tests and one-shot readers: waits for the run under way, up to <paramref name="wait"/>.</summary>
    public bool WaitForRun(TimeSpan wait)
    {
        Task? running;
        lock (_gate)
        {
            running = _running;
        }

        return running is null || running.Wait(wait);
    }

    /// <summary>Why the last run failed, or null when it succeeded (or none finished).</summary>
    public string? FailureText
    {
        get
        {
            lock (_gate)
            {
                return _failureText;
            }
        }
    }

    /// <summary>What to log since the last call: a warning as a failure streak starts, an info line as it ends.</summary>
    public List<(LogLevel Level, string Text)> TakeNotes()
    {
        lock (_gate)
        {
            var notes = _notes.ToList();
            _notes.Clear();
            return notes;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            Kill(_process);
        }
    }

    /// <summary>One number of watts (e.g. <c>231.5</c>, <c>231.5 W</c>), or null.</summary>
    internal static double? Parse(string output)
    {
        var text = output.Trim();
        if (text.EndsWith('W') || text.EndsWith('w'))
        {
            text = text[..^1].TrimEnd();
        }

        return text.Length is > 0 and <= 32
            && double.TryParse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var watts)
            && double.IsFinite(watts) && watts < 1e7
            ? watts
            : null;
    }

    /// <summary>
    /// setsid(1) puts the command in a session and process group of its own (it execs in place: the group id is the
    /// started process's id), so that what it leaves behind, a background child holding stdout, can be killed with it.
    /// </summary>
    private static readonly string? Setsid = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);

    private void RunOnce()
    {
        var start = new ProcessStartInfo(Setsid ?? "/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (Setsid is not null)
        {
            start.ArgumentList.Add("/bin/sh");
        }

        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(_command);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception error) when (error is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            Fail(PowermeterFailure.Start, $"powermeter command could not start: {error.Message}");
            return;
        }

        using (process)
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    Kill(process);
                    return;
                }

                _process = process;
            }

            process.StandardInput.Close();
            _ = process.StandardError.BaseStream.CopyToAsync(Stream.Null); // drained, never shown: a chatty meter must not fill the pipe
            var output = new BoundedOutput(process.StandardOutput.BaseStream);
            var exited = process.WaitForExitAsync();
            var first = Task.WaitAny(new Task[] { exited, output.Overflowed }, _timeout);

            // Whatever happened, nothing of the run may stay: a background child would hold the pipe and pile up.
            Kill(process);
            if (first < 0)
            {
                Fail(PowermeterFailure.Timeout, $"powermeter command did not exit within {_timeout.TotalSeconds:0.###} s; killed");
                return;
            }

            // The output is what was written by the time the command exited: the pipe ends once its group is killed.
            output.Done.Wait(TimeSpan.FromSeconds(1));
            if (output.Overflowed.IsCompleted)
            {
                Fail(PowermeterFailure.Output, $"powermeter command printed more than {MaxOutputBytes} bytes; killed");
                return;
            }

            lock (_gate)
            {
                _process = null;
            }

            var text = output.Text();
            if (process.ExitCode != 0)
            {
                Fail(PowermeterFailure.Exit, $"powermeter command exited with status {process.ExitCode}");
            }
            else if (Parse(text) is { } watts)
            {
                Succeed(watts);
            }
            else
            {
                Fail(PowermeterFailure.Output, $"powermeter command printed '{PowerSysfs.Shorten(text.Trim())}', not a number of watts");
            }
        }
    }

    /// <summary>Reads a run's stdout in the background up to <see cref="MaxOutputBytes"/>; its text so far can be taken at any time.</summary>
    private sealed class BoundedOutput
    {
        private readonly byte[] _buffer = new byte[MaxOutputBytes + 1];
        private readonly TaskCompletionSource _overflow = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _total;

        public BoundedOutput(Stream stream) => Done = Task.Run(() => ReadAsync(stream));

        /// <summary>Completes at the end of the output (every writer gone) or once it is too long.</summary>
        public Task Done { get; }

        /// <summary>Completes only when the output went past <see cref="MaxOutputBytes"/>.</summary>
        public Task Overflowed => _overflow.Task;

        public string Text()
        {
            lock (_buffer)
            {
                return Encoding.UTF8.GetString(_buffer, 0, Math.Min(_total, MaxOutputBytes));
            }
        }

        private async Task ReadAsync(Stream stream)
        {
            var chunk = new byte[256];
            int n;
            try
            {
                while ((n = await stream.ReadAsync(chunk).ConfigureAwait(false)) > 0)
                {
                    lock (_buffer)
                    {
                        var take = Math.Min(n, _buffer.Length - _total);
                        chunk.AsSpan(0, take).CopyTo(_buffer.AsSpan(_total));
                        _total += take;
                    }

                    if (_total > MaxOutputBytes)
                    {
                        _overflow.TrySetResult();
                        return;
                    }
                }
            }
            catch (Exception error) when (error is IOException or ObjectDisposedException)
            {
                // the pipe closed under us as the run was disposed: what was read stands
            }
        }
    }

    private void Succeed(double watts)
    {
        lock (_gate)
        {
            if (_failing && _notes.Count < 16)
            {
                _notes.Enqueue((LogLevel.Info, $"power: powermeter command answers again ({watts.ToString(CultureInfo.InvariantCulture)} W) after {_failedInARow} failed run(s)"));
            }

            (_lastWatts, _readAt, _failedInARow, _failing, _failureText) = (watts, Stopwatch.GetTimestamp(), 0, false, null);
        }
    }

    private void Fail(PowermeterFailure reason, string text)
    {
        lock (_gate)
        {
            _failures[(int)reason]++;
            _failedInARow++;
            _failureText = text;
            _process = null;
            if (!_failing && _notes.Count < 16)
            {
                _notes.Enqueue((LogLevel.Warning, $"power: {text}; counted in host_powermeter_failures_total, not logged again until it answers (its last reading is dropped after {ExpireAfterFailures} failed runs in a row{AgeText()})"));
            }

            _failing = true;
        }
    }

    private string AgeText() => _maxAge == TimeSpan.MaxValue ? string.Empty : $" or {_maxAge.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s after it was read";

    /// <summary>Kills the run's process group (with setsid: everything it started that did not leave it) and its tree.</summary>
    private static void Kill(Process? process)
    {
        if (process is null)
        {
            return;
        }

        try
        {
            if (Setsid is not null && process.Id > 1)
            {
                _ = Native.Interop.Libc.Kill(-process.Id, Native.Interop.Libc.SigKill); // ESRCH: the group is gone already
            }

            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception error) when (error is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // already exited
        }
    }
}
